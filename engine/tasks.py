"""Human tasks: the `human_task` rows the inbox reads, and the rules for claiming and completing."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from . import timers
from .audit import actors_who_completed
from .errors import NotAllowed
from .models import HumanTask, ProcessInstance
from .users import SYSTEM_USER, UserView
from .views import TaskView

if TYPE_CHECKING:
    from .bundle import BuiltModel

SEPARATION_PROPERTY = "separationOfDutiesFrom"


def properties(task_spec) -> dict[str, str]:
    extensions = getattr(task_spec, "extensions", None) or {}
    return extensions.get("properties", {}) or {}


def ready_human_tasks(workflow):
    return [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual]


def _interrupting_due(task) -> datetime | None:
    """The earliest interrupting boundary timer on this task: its deadline."""
    parent = task.parent
    if parent is None:
        return None
    dues = [timers.due_at(sibling) for sibling in parent.children
            if sibling is not task and sibling.state == TaskState.WAITING
            and getattr(sibling.task_spec, "cancel_activity", False) and timers.due_at(sibling)]
    return min(dues) if dues else None


def sync_rows(session: Session, row: ProcessInstance, workflow, now: datetime) -> None:
    """Rewrite the instance's `human_task` rows to match its ready user/manual tasks."""
    existing = {t.id: t for t in session.scalars(select(HumanTask).where(HumanTask.instance_id == row.id))}
    ready = {str(t.id): t for t in ready_human_tasks(workflow)}
    for task_id, human in existing.items():
        if task_id not in ready:
            session.delete(human)
    for task_id, task in ready.items():
        due = _interrupting_due(task)
        if task_id in existing:
            existing[task_id].due_at = due
            continue
        props = properties(task.task_spec)
        spec = task.task_spec
        session.add(HumanTask(id=task_id, instance_id=row.id, process_key=row.process_key,
                              element_id=spec.bpmn_id, name=spec.bpmn_name or spec.bpmn_id,
                              lane=task.task_spec.lane, form_key=props.get("formJsonSchemaFilename"),
                              ui_form_key=props.get("formUiSchemaFilename"), created_at=now, due_at=due))


def form_of(model: BuiltModel | None, form_key: str | None, ui_key: str | None) -> dict[str, Any] | None:
    if not form_key:
        return None
    form = {"key": form_key, "schema": model.forms.get(form_key) if model else None}
    if ui_key:
        form["ui_key"] = ui_key
        form["ui"] = model.forms.get(ui_key) if model else None
    return form


def view(human: HumanTask, instance: ProcessInstance | None, model: BuiltModel | None) -> TaskView:
    return TaskView(human.id, human.instance_id, human.process_key, human.element_id, human.name, human.lane,
                    human.claimed_by, human.created_at, human.due_at,
                    form_of(model, human.form_key, human.ui_form_key),
                    instance.reference if instance else None, instance.label if instance else None)


def query(*, instance_id: int | None = None, user: UserView | None = None, mine: bool | None = None,
          process_key: str | None = None, due_before: datetime | None = None, due_after: datetime | None = None):
    """A select of (HumanTask, ProcessInstance) rows; `user` limits to tasks the user may see."""
    stmt = select(HumanTask, ProcessInstance).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
    if instance_id is not None:
        stmt = stmt.where(HumanTask.instance_id == instance_id)
    if process_key:
        stmt = stmt.where(HumanTask.process_key == process_key)
    if due_before is not None:
        stmt = stmt.where(HumanTask.due_at.is_not(None), HumanTask.due_at <= due_before)
    if due_after is not None:
        stmt = stmt.where(HumanTask.due_at.is_not(None), HumanTask.due_at > due_after)
    if user is not None:
        if mine is True:
            stmt = stmt.where(HumanTask.claimed_by == user.username)
        elif mine is False:
            stmt = stmt.where(HumanTask.claimed_by.is_(None))
        if not user.is_admin:
            stmt = stmt.where(or_(HumanTask.lane.is_(None), HumanTask.lane.in_(sorted(user.roles)),
                                  HumanTask.claimed_by == user.username))
    return stmt


def check_may_work(user: UserView, human: HumanTask, *, claiming: bool = False) -> None:
    if not user.may_work_in(human.lane):
        raise NotAllowed(f"{user.username} does not have the role {human.lane!r} this task needs")
    if human.claimed_by and human.claimed_by != user.username and not (user is SYSTEM_USER and not claiming):
        raise NotAllowed(f"task is claimed by {human.claimed_by}")


def check_separation(session: Session, user: UserView, instance_id: int, task_spec) -> None:
    """Refuse a user who completed an element this task must be kept apart from (separation of duties)."""
    value = properties(task_spec).get(SEPARATION_PROPERTY)
    if not value:
        return
    elements = [e.strip() for e in value.split(",") if e.strip()]
    if user.username in actors_who_completed(session, instance_id, elements):
        raise NotAllowed(f"separation of duties: {user.username} completed {', '.join(elements)} on this "
                         f"instance and cannot also complete {task_spec.bpmn_name or task_spec.bpmn_id}")
