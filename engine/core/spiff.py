"""Every use of SpiffWorkflow's private task internals, in one place.

SpiffWorkflow offers no public way to read a task's raw child/parent ids, to put a failed task back to READY,
or to keep engine data on a task (timers' due times). pyproject.toml pins SpiffWorkflow to the minor series
tests/engine/core/test_spiff.py was run against: an upgrade that changes one of these breaks there, in one place.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState


def child_ids(task: Task) -> list[UUID]:
    """The ids of a task's children, without building the child objects (the serializer's hot path)."""
    return task._children


def parent_id(task: Task) -> UUID | None:
    """The id of a task's parent (None for the root)."""
    return task._parent


def make_ready(task: Task) -> None:
    """Put a failed task back to READY so the next run tries it again (`clientflow retry`)."""
    task._set_state(TaskState.READY)


def internal(task: Task, key: str) -> Any:
    """A value kept in the task's internal data (serialized with the task), or None."""
    return task._get_internal_data(key)


def set_internal(task: Task, **values: Any) -> None:
    """Keep values in the task's internal data."""
    task._set_internal_data(**values)
