"""Timer events: due times from the engine's clock, `timer` rows, and firing a due timer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from engine.core import spiff
from engine.core.db.models import Timer
from engine.core.db.prepared import Prepared
from engine.results import TimerView

_DUE = "clientflow_due"
_PAST = datetime(2000, 1, 1, tzinfo=UTC)
_NEVER = datetime(9999, 1, 1, tzinfo=UTC)


def _timer_definition(task):
    definition = getattr(task.task_spec, "event_definition", None)
    return definition if isinstance(definition, TimerEventDefinition) else None


def is_timer(task) -> bool:
    return _timer_definition(task) is not None


def kind_of(definition) -> str:
    if isinstance(definition, CycleTimerEventDefinition):
        return "cycle"
    if isinstance(definition, TimeDateEventDefinition):
        return "date"
    return "duration"


def due_at(task) -> datetime | None:
    value = spiff.internal(task, _DUE)
    return datetime.fromisoformat(value) if value else None


def forget_due(task) -> None:
    """Drop a timer's due time, so the next save computes it again (retry after a failed timer expression)."""
    spiff.set_internal(task, **{_DUE: None})


def anchor_due_times(workflow, waiting: list, now: datetime) -> None:
    """Give every newly waiting timer a due time counted from the engine clock, not SpiffWorkflow's.

    SpiffWorkflow compares its own `event_value` with the real time whenever timers are refreshed (after
    every step); we park that value in the far future so only `fire()` - called when the engine clock says
    the timer is due - ever fires a timer. Our due time lives in internal data under `_DUE`. A timer whose
    expression does not evaluate to an ISO 8601 value raises `WorkflowTaskException` naming it."""
    for task in waiting:
        if spiff.internal(task, _DUE):
            continue
        try:
            due = _due_time(workflow, task, now)
        except WorkflowException as err:
            if getattr(err, "task", None) is None:
                err.task = task
            raise
        except Exception as err:  # noqa: BLE001 - any failure of a timer expression is that timer's error
            raise WorkflowTaskException(f"timer {task.task_spec.bpmn_id}: {err.__class__.__name__}: {err}",
                                        task=task, exception=err) from err
        if due is not None:
            spiff.set_internal(task, **{_DUE: due.astimezone(UTC).isoformat()})


def _due_time(workflow, task, now: datetime) -> datetime | None:
    definition = _timer_definition(task)
    if isinstance(definition, DurationTimerEventDefinition):
        expression = _text(workflow.script_engine.evaluate(task, definition.expression), "a duration")
        parsed = TimerEventDefinition.parse_iso_duration(expression)
        due = now + TimerEventDefinition.get_timedelta_from_start(parsed, now)
        spiff.set_internal(task, event_value=_NEVER.isoformat())
        return due
    if isinstance(definition, CycleTimerEventDefinition):
        value = spiff.internal(task, "event_value")
        if not value or value.get("cycles") == 0:
            return None
        expression = _text(workflow.script_engine.evaluate(task, definition.expression), "a cycle")
        _cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(expression)
        if "/" in expression and not expression.split("/")[1].upper().startswith("P"):
            due = start  # an explicit start date
        else:
            due = now + duration
        value["next"] = _NEVER.isoformat()
        spiff.set_internal(task, event_value=value)
        return due
    value = spiff.internal(task, "event_value")
    if value is None:
        return None
    due = TimerEventDefinition.get_datetime(value) if isinstance(value, str) else now
    spiff.set_internal(task, event_value=_NEVER.isoformat())
    return due


def _text(value, kind: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"the timer expression gave {value!r}, not {kind} in ISO 8601 text")
    return value


def fire(workflow, task) -> None:
    """Make a waiting timer task fire now, whatever SpiffWorkflow's own clock says."""
    definition = _timer_definition(task)
    if isinstance(definition, CycleTimerEventDefinition):
        value = spiff.internal(task, "event_value")
        fired_due = due_at(task)
        value["next"] = _PAST.isoformat()
        spiff.set_internal(task, event_value=value)
        workflow.refresh_timers()
        value = spiff.internal(task, "event_value")
        if value and value.get("cycles") != 0:
            next_due = fired_due + timedelta(seconds=value["duration"])
            value["next"] = _NEVER.isoformat()
            spiff.set_internal(task, event_value=value, **{_DUE: next_due.isoformat()})
        return
    spiff.set_internal(task, event_fired=True)
    workflow.refresh_timers()


TIMER = Timer.__table__


_PENDING_OF_INSTANCE = Prepared(select(TIMER.c.id, TIMER.c.task_id, TIMER.c.due_at).where(
    TIMER.c.instance_id == bindparam("instance_id"), TIMER.c.fired_at.is_(None), TIMER.c.cancelled_at.is_(None)))


_SELECT_ROW = Prepared(select(TIMER).where(TIMER.c.id == bindparam("timer_id")))


def get_row(conn, timer_id: int):
    """One timer row (on the caller's connection, in its transaction if any), or None."""
    return _SELECT_ROW.one_or_none(conn, {"timer_id": timer_id})


def close(conn, timer_id: int, *, fired_at: datetime | None = None, cancelled_at: datetime | None = None) -> None:
    conn.execute(update(TIMER).where(TIMER.c.id == timer_id).values(fired_at=fired_at, cancelled_at=cancelled_at))


def sync_rows(conn, instance_id: int, workflow, waiting: list, now: datetime,
              had_timers: bool = True, taken_out: set[UUID] = frozenset()) -> list[tuple[int, datetime]]:
    """Insert one row per newly waiting timer; close rows of timers that fired or were cancelled meanwhile.

    `taken_out` holds completed tasks just taken out of the state (engine/core/compaction.py): a timer among
    them fired.
    Returns (id, due_at) of the rows new in this save (callers schedule them). Skips all queries when the
    model has no timers at all."""
    if not waiting and not had_timers:
        return []
    existing = {(r.task_id, r.due_at): r.id for r in _PENDING_OF_INSTANCE.all(conn, {"instance_id": instance_id})}
    seen, created = set(), []
    for task in waiting:
        due = due_at(task)
        if due is None:
            continue
        key = (str(task.id), due)
        seen.add(key)
        if key in existing:
            continue
        definition = _timer_definition(task)
        timer_id = conn.execute(insert(TIMER).values(
            instance_id=instance_id, task_id=str(task.id), element_id=task.task_spec.bpmn_id,
            name=task.task_spec.bpmn_name or definition.name or "", kind=kind_of(definition),
            interrupting=bool(getattr(task.task_spec, "cancel_activity", True)), due_at=due, created_at=now,
        ).returning(TIMER.c.id)).scalar_one()
        created.append((timer_id, due))
    for (task_id, _due), timer_id in existing.items():
        if (task_id, _due) in seen:
            continue
        task = workflow.get_task_from_id(_uuid(task_id)) if _has_task(workflow, task_id) else None
        if (task is not None and task.state == TaskState.COMPLETED) or _uuid(task_id) in taken_out:
            close(conn, timer_id, fired_at=now)
        else:
            close(conn, timer_id, cancelled_at=now)
    return created


def _uuid(value: str) -> UUID:
    return UUID(value)


def _has_task(workflow, task_id: str) -> bool:
    try:
        return workflow.get_task_from_id(_uuid(task_id)) is not None
    except Exception:  # SpiffWorkflow raises TaskNotFoundException for unknown ids
        return False


def view(row: Timer) -> TimerView:
    return TimerView(row.id, row.instance_id, row.task_id, row.element_id, row.name, row.kind, row.interrupting,
                     row.due_at, row.fired_at, row.cancelled_at)


def timers_of(session: Session, instance_id: int) -> list[TimerView]:
    return [view(r) for r in session.scalars(select(Timer).where(Timer.instance_id == instance_id)
                                             .order_by(Timer.due_at, Timer.id))]


def due_timers(session: Session, now: datetime, limit: int = 500) -> list[TimerView]:
    rows = session.scalars(select(Timer).where(Timer.fired_at.is_(None), Timer.cancelled_at.is_(None),
                                               Timer.due_at <= now).order_by(Timer.due_at).limit(limit))
    return [view(r) for r in rows]


def pending_timers(session: Session, limit: int = 10_000) -> list[TimerView]:
    rows = session.scalars(select(Timer).where(Timer.fired_at.is_(None), Timer.cancelled_at.is_(None))
                           .order_by(Timer.due_at).limit(limit))
    return [view(r) for r in rows]
