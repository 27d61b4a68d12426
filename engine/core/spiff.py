"""Every use of SpiffWorkflow's private task internals, in one place.

SpiffWorkflow offers no public way to read a task's raw child/parent ids, to put a failed task back to READY,
to keep engine data on a task (timers' due times), to take finished tasks out of the tree (engine/core/compaction.py)
or to run the engine one round at a time. pyproject.toml pins SpiffWorkflow to the minor series
tests/engine/core/test_spiff.py was run against: an upgrade that changes one of these breaks there, in one place.
"""

from __future__ import annotations

import sys
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
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


def detach(workflow, doomed: set[UUID]) -> set[UUID]:
    """Take the tasks `doomed` out of a (sub)workflow's tree and out of their remaining parents' child lists.

    Returns the ids of the tasks that lost children (their serialized form changed)."""
    changed = set()
    tasks = workflow.tasks
    for task_id in doomed:
        task = tasks[task_id]
        if task._parent is not None and task._parent not in doomed and task._parent in tasks:
            changed.add(task._parent)
    for task_id in changed:
        parent = tasks[task_id]
        parent._children = [child for child in parent._children if child not in doomed]
    for task_id in doomed:
        del tasks[task_id]
    return changed


def reparent(task: Task, parent: Task) -> None:
    """Hang `task` (and its subtree) under `parent` instead of its own parent, which is being detached."""
    task._parent = parent.id
    if task.id not in parent._children:
        parent._children.append(task.id)


def engine_round(workflow, did_complete_task=None) -> bool:
    """One round of `BpmnWorkflow.do_engine_steps` (which repeats them while a round ran something, then
    refreshes the timers); True when it ran something. The engine runs the rounds itself to take finished tasks
    out between rounds of a long automatic loop."""
    return bool(workflow._do_engine_steps(did_complete_task=did_complete_task))


def loop_instances(task: Task) -> list[Task]:
    """The instances of a multi-instance or standard-loop activity (those of its children that run its inner
    task; the others are what follows it); empty for any other task."""
    if not isinstance(task.task_spec, LoopTask):
        return []
    return [child for child in task.children if child is not None and child.task_spec.name == task.task_spec.task_spec]
