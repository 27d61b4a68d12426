"""Every use of SpiffWorkflow's private task internals, in one place.

SpiffWorkflow offers no public way to read a task's raw child/parent ids, to put a failed task back to READY,
or to keep engine data on a task (timers' due times). pyproject.toml pins SpiffWorkflow to the minor series
tests/engine/core/test_spiff.py was run against: an upgrade that changes one of these breaks there, in one place.
"""

from __future__ import annotations

import sys
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskIterator, TaskState


def child_ids(task: Task) -> list[UUID]:
    """The ids of a task's children, without building the child objects (the serializer's hot path)."""
    return task._children


def parent_id(task: Task) -> UUID | None:
    """The id of a task's parent (None for the root)."""
    return task._parent


def make_ready(task: Task) -> None:
    """Put a failed task back to READY so the next run tries it again (`clientflow retry`)."""
    task._set_state(TaskState.READY)


def mark_failed(task: Task) -> None:
    """Put a task that failed outside its own run (a timer whose due time does not evaluate) in ERROR."""
    task._set_state(TaskState.ERROR)


def make_waiting(task: Task) -> None:
    """Put a failed waiting task (a timer) back to WAITING, so its due time is computed again."""
    task._set_state(TaskState.WAITING)


def lift_depth_limit() -> None:
    """SpiffWorkflow's task iterators stop at depth 1,000 of the task tree, and a loop adds a level per element
    it passes: after ~333 rounds of a three-element loop `get_tasks(state=READY)` no longer finds the ready task
    and `is_completed()` says True. The limit only guards against trees we never build, so it is lifted."""
    for iterator in (TaskIterator, BpmnTaskIterator):
        defaults = list(iterator.__init__.__defaults__)
        defaults[1] = sys.maxsize  # (end_at_spec, max_depth, ...)
        iterator.__init__.__defaults__ = tuple(defaults)


def internal(task: Task, key: str) -> Any:
    """A value kept in the task's internal data (serialized with the task), or None."""
    return task._get_internal_data(key)


def set_internal(task: Task, **values: Any) -> None:
    """Keep values in the task's internal data."""
    task._set_internal_data(**values)
