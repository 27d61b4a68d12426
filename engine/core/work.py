"""What one unit of work carries (the instance row, its workflow, events, outbox), and the views it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Connection

from engine.core import timers
from engine.core.db.models import ProcessInstance
from engine.core.outbox import Outbox
from engine.core.rows import (
    InstanceRow,
)
from engine.core.users import UserView
from engine.errors import (
    ScriptError,
)
from engine.results import InstanceView

if TYPE_CHECKING:
    pass


ENGINE_RECORDS = frozenset({"gateway_taken", "script_ran", "rule_evaluated"})  # engine/core/steps.py
LABEL_KEYS = ("client_name", "customer_name", "company_name", "submitter_name", "name")


@dataclass
class SaveResult:
    """What one committed change did; handed to save listeners (timer scheduling, notifications)."""

    instance_id: int
    status: str
    definition_id: int
    new_timers: list[tuple[int, Any]] = field(default_factory=list)
    new_notifications: list[int] = field(default_factory=list)


@dataclass
class Work:
    """The state a unit of work operates on."""

    conn: Connection
    row: InstanceRow
    workflow: BpmnWorkflow
    model: Any
    actor: UserView
    now: Any
    outbox: Outbox = field(default_factory=Outbox)
    events: list[dict[str, Any]] = field(default_factory=list)
    had_timers: bool = False
    open_tasks: dict[str, Any] | None = None
    snapshot: Snapshot | None = None
    listed: tuple = ()
    ran: bool = False  # the engine ran (run_step), so the status follows the workflow
    failed: ScriptError | None = None  # what stopped the instance in this unit of work
    revert: bool = False  # the failure left no failed task: keep the last good state
    new_id: int | None = None  # a new instance's id, when taken before its INSERT (PostgreSQL)

    def __post_init__(self) -> None:
        self.listed = self.row.listed()

    def named_tasks(self) -> set[str]:
        """The tasks this unit of work's own events name (a completed task, a fired timer): the rows written with
        the state may still read them, so they stay in the state (engine/core/compaction.py). The engine's records
        of every gateway and script it ran are left out: a long loop would keep its whole history."""
        return {e["task_id"] for e in self.events if e["task_id"] and e["kind"] not in ENGINE_RECORDS}

    def record(self, kind: str, *, element_id: str | None = None, task_id: str | None = None, **detail) -> None:
        self.events.append({"instance_id": self.row.id, "at": self.now, "actor": self.actor.username, "kind": kind,
                            "element_id": element_id, "task_id": task_id, "detail": detail})


@dataclass
class Snapshot:
    """The tasks that derived rows are made of, found in one walk over the task tree."""

    ready_human: list
    waiting_timers: list
    errors: list


_LIVE = TaskState.READY | TaskState.WAITING | TaskState.ERROR


def snapshot(workflow: BpmnWorkflow) -> Snapshot:
    # A scan of the task dicts (the top workflow's and every subprocess's) finds the same tasks as Spiff's
    # tree iterator at a fraction of its cost: children of tasks that have not started are never live.
    ready, waiting, errors = [], [], []
    for tasks_of in (workflow.tasks, *(sub.tasks for sub in workflow.subprocesses.values())):
        for task in tasks_of.values():
            state = task.state
            if not state & _LIVE:
                continue
            if state == TaskState.READY:
                if task.task_spec.manual:
                    ready.append(task)
            elif state == TaskState.WAITING:
                if timers.is_timer(task):
                    waiting.append(task)
            else:
                errors.append(task)
    return Snapshot(ready, waiting, errors)


def view(row: ProcessInstance | InstanceRow) -> InstanceView:
    return InstanceView(row.id, row.process_key, row.version, row.status, row.reference, row.label,
                        row.started_by, row.started_at, row.updated_at, row.ended_at, row.lock_version,
                        error_text(row), row.definition_id)


def error_text(row: ProcessInstance | InstanceRow) -> str | None:
    if not row.error_message:
        return None
    return str(ScriptError(row.error_message, element_id=row.error_element_id, line=row.error_line))


def label_of(data: dict[str, Any]) -> str | None:
    for key in LABEL_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:255]
    return None


def last_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    last = workflow.last_task
    return last.data if last is not None else {}


Actor = UserView | str | None
