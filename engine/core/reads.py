"""Reading instances and tasks back: views, details with the live workflow's data, search."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.core import audit, compaction, definitions, tasks, timers
from engine.core.db.models import ProcessInstance
from engine.core.unit_of_work import last_data, raise_missing_task, restore, view
from engine.errors import InstanceNotFound, TaskNotFound
from engine.results import InstanceDetail, InstanceView, TaskView

if TYPE_CHECKING:
    from engine.core.services import Services


def task_view(services: Services, task_id: str) -> TaskView:
    """One open human task, as the inbox shows it."""
    with services.read_session() as session:
        row = session.connection().execute(tasks.query().where(tasks.HUMAN.c.id == task_id)).one_or_none()
        if row is None:
            raise TaskNotFound(f"no open task with id {task_id}")
        return tasks.view(row, definitions.model_for(services, session, row.definition_id))


def task_data(services: Services, task_id: str) -> dict[str, Any]:
    with services.read_session() as session:
        human = tasks.get_row(session.connection(), task_id)
        if human is None:
            raise_missing_task(session.connection(), task_id)
        row = session.get(ProcessInstance, human.instance_id)
        workflow, _ = restore(services, session, row)
        lock_version = row.lock_version
    task = workflow.get_task_from_id(UUID(task_id))
    data = dict(task.data)
    services.live.put(human.instance_id, lock_version, workflow)
    return data


def detail(services: Services, instance_id: int) -> InstanceDetail:
    with services.read_session() as session:
        row = session.get(ProcessInstance, instance_id)
        if row is None:
            raise InstanceNotFound(f"no instance with id {instance_id}")
        workflow, model = restore(services, session, row)
        lock_version = row.lock_version
        humans = session.connection().execute(tasks.query(instance_id=instance_id)).all()
        task_views = [tasks.view(h, model) for h in humans]
        timer_views = timers.timers_of(session, instance_id)
        events = audit.events_of(session, instance_id)
        instance_view = view(row)
    completed = sorted(compaction.visited(workflow))
    active = sorted({t.task_spec.bpmn_id for t in workflow.get_tasks(
        state=TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR) if t.task_spec.bpmn_id})
    data = dict(workflow.data)
    data.update(last_data(workflow))
    # STARTED: a task waiting for an external worker or an asynchronous job holds the newest data.
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED):
        data.update(task.data)
    services.live.put(instance_id, lock_version, workflow)
    return InstanceDetail(instance_view, _jsonable(data), task_views, timer_views, events, completed, active)


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data, default=str))


# (instance id column, LIKE pattern, whether personal values may match) -> a clause; see `search`.
FieldMatch = Callable[[Any, str, bool], Any]


@dataclass(frozen=True)
class LabelScope:
    """Whose client labels a search may match: instances of these definitions, or those `started_by` started."""

    definition_ids: frozenset[int]
    started_by: str | None = None


def like_pattern(text: str) -> str:
    """`text` as a LIKE pattern matching it anywhere, its own `%`, `_` and `\\` taken literally (escape `\\`)."""
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(session: Session, *, key: str | None = None, status: str | None = None, text: str | None = None,
           limit: int = 100, offset: int = 0, label_scope: LabelScope | None = None,
           process_keys: frozenset[str] | None = None, field_match: FieldMatch | None = None) -> list[InstanceView]:
    """Instances newest first; `text` matches the reference, and the label only within `label_scope` (when given),
    so a search never matches what its user may not see; `process_keys` limits the processes (a token's scope).

    `field_match(instance id column, pattern, personal)` is a clause matching other values of a case (its
    searchable fields); personal ones are matched within `label_scope` only, like the label."""
    query = select(ProcessInstance)
    if process_keys is not None:
        query = query.where(ProcessInstance.process_key.in_(sorted(process_keys)))
    if key:
        query = query.where(ProcessInstance.process_key == key)
    if status:
        query = query.where(ProcessInstance.status == status)
    if text:
        like = like_pattern(text)
        label = ProcessInstance.label.ilike(like, escape="\\")
        personal = field_match(ProcessInstance.id, like, True) if field_match is not None else None
        if label_scope is not None:
            in_scope = or_(ProcessInstance.definition_id.in_(sorted(label_scope.definition_ids)),
                           ProcessInstance.started_by == (label_scope.started_by or ""))
            label = label & in_scope
            personal = personal & in_scope if personal is not None else None
        others = [personal, field_match(ProcessInstance.id, like, False)] if field_match is not None else []
        query = query.where(or_(ProcessInstance.reference.ilike(like, escape="\\"), label, *others))
    query = query.order_by(ProcessInstance.id.desc()).limit(limit).offset(offset)
    return [view(r) for r in session.scalars(query)]
