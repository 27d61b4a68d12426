"""Timers counted in business hours: a duration timer with a `calendar` property is due in that calendar's time.

`timers.anchor_due_times` first gives every timer a due time in calendar time; at save, `anchor` replaces it for
timers that name a calendar, through the one `business_due` function the facade registers
(engine/core/hooks.py). The due time set here is remembered, so a later save leaves it alone, while a due time
dropped for a retry is computed again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import DurationTimerEventDefinition
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from engine.core import spiff, timers
from engine.core.hooks import BusinessDue
from engine.core.timers import _DUE as DUE_KEY  # the key `timers.due_at` reads
from engine.errors import InvalidModel

_BUSINESS_DUE = "clientflow_business_due"


def calendar_of(task) -> str | None:
    """The calendar a duration timer counts on (its `calendar` property), or None for calendar time."""
    definition = getattr(task.task_spec, "event_definition", None)
    if not isinstance(definition, DurationTimerEventDefinition):
        return None
    extensions = getattr(task.task_spec, "extensions", None) or {}
    return (extensions.get("properties") or {}).get("calendar") or None


def anchor(workflow, waiting: list, now: datetime, business_due: BusinessDue | None) -> None:
    """Give each newly waiting timer that names a calendar its due time in that calendar's business hours."""
    for task in waiting:
        calendar = calendar_of(task)
        if not calendar:
            continue
        current = timers.due_at(task)
        if current is None or spiff.internal(task, _BUSINESS_DUE) == current.isoformat():
            continue
        if business_due is None:
            raise InvalidModel(f"the timer counts on calendar {calendar!r}, but this engine has no business "
                               "calendars", element_id=task.task_spec.bpmn_id)
        try:
            expression = workflow.script_engine.evaluate(task, task.task_spec.event_definition.expression)
            due = business_due(calendar, now, str(expression)).astimezone(UTC).isoformat()
        except WorkflowException as err:
            if getattr(err, "task", None) is None:
                err.task = task
            raise
        except Exception as err:  # noqa: BLE001 - a failing business timer is that timer's error
            raise WorkflowTaskException(f"timer {task.task_spec.bpmn_id}: {err}", task=task, exception=err) from err
        spiff.set_internal(task, **{DUE_KEY: due, _BUSINESS_DUE: due})


_HELD = "clientflow_held_seconds"  # business seconds a parked timer still had when its case went on hold


def waiting_business_timers(workflow) -> list:
    """The waiting timers of a workflow that count business time (they name a calendar)."""
    return [t for t in workflow.get_tasks(state=TaskState.WAITING) if timers.is_timer(t) and calendar_of(t)]


def hold(workflow, measure) -> int:
    """Park every waiting business-time timer (a case on hold, e.g. waiting on the client), keeping its time left.

    `measure(calendar, due)` gives the business time from now to `due`. A parked timer's due time is far in the
    future, so it cannot fire while the case waits; `release` gives it back the time it had left."""
    parked = 0
    for task in waiting_business_timers(workflow):
        due = timers.due_at(task)
        if due is None or spiff.internal(task, _HELD) is not None:
            continue
        left = int(measure(calendar_of(task), due).total_seconds())
        never = timers._NEVER.isoformat()
        spiff.set_internal(task, **{DUE_KEY: never, _BUSINESS_DUE: never, _HELD: str(max(left, 0))})
        parked += 1
    return parked


def release(workflow, now: datetime, business_due: BusinessDue) -> int:
    """Give each parked timer a due time: the business time it had left, counted again from `now`."""
    released = 0
    for task in waiting_business_timers(workflow):
        left = spiff.internal(task, _HELD)
        if left is None:
            continue
        due = business_due(calendar_of(task), now, f"PT{int(left)}S").astimezone(UTC).isoformat()
        spiff.set_internal(task, **{DUE_KEY: due, _BUSINESS_DUE: due, _HELD: None})
        released += 1
    return released
