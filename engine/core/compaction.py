"""Finished history out of the live state, so a long-running case costs the same per step at its 1,000th round as
at its 10th.

SpiffWorkflow keeps every task it ever ran in its task tree: a loop adds a level per element it passes, a
multi-instance activity keeps every finished instance under it. Every step then walks, serializes and stores the
whole history (about 19 us and 420 bytes more per finished task, measured for issue 17). Once the tree has grown
(`compact_if_large`), `compact` takes out of it what no later step can read:

- everything outside the subtree of the lowest common ancestor of the tasks that still matter (the live ones, the
  workflow's last task, and those the current unit of work names in its audit events). Inside that subtree
  nothing is touched, so joins still see every branch of the split they merge. Above it stay its parent and
  grandparent (a join checks its parent's state) and the nearest ancestor of each task spec (a boundary join looks
  for the split above its task; a parallel gateway entered again by a loop walks up to the flow the first round
  came by), each hung under the next kept one: ancestor order among the kept tasks is unchanged, the chain is
  bounded by the model's size, and each kept task's data is whole;
- the finished instances of a running multi-instance or loop activity, except the last one merged (its
  completion condition reads it): their data was merged into the activity when each finished.

What is taken out is history, not lost: each finished task was recorded in the audit trail (`event`) when it
ran, and the elements it visited are kept, as a set bounded by the model's size, in the root task's internal
data (`visited`), where the diagram reads them. A call activity taken out takes its finished subprocess with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.core import spiff
from engine.core.serializer import forget_json

FINISHED = TaskState.COMPLETED | TaskState.CANCELLED
VISITED = "clientflow_visited"
COMPACT_AT = 64  # tasks in the tree (and its subprocesses') before a save takes history out


def compact(workflow: BpmnWorkflow, keep: Iterable[str] = ()) -> set[UUID]:
    """Take finished history out of the workflow and its subprocesses; `keep` names tasks (ids as text) that must
    stay. Returns the ids of the completed tasks taken out (a timer among them fired)."""
    keep_ids = {UUID(task_id) for task_id in keep}
    visited = set(spiff.internal(workflow.task_tree, VISITED) or ())
    known = len(visited)
    completed: set[UUID] = set()
    for tree in (workflow, *list(workflow.subprocesses.values())):
        if tree is workflow or tree.parent_task_id in workflow.subprocesses:  # not deleted meanwhile
            completed |= _compact_tree(workflow, tree, keep_ids, visited)
    if len(visited) != known:
        spiff.set_internal(workflow.task_tree, **{VISITED: sorted(visited)})
        forget_json(workflow.task_tree)
    return completed


def compact_if_large(workflow: BpmnWorkflow, keep: Callable[[], Iterable[str]]) -> set[UUID]:
    """`compact` when the tree (with its subprocesses') holds more than `COMPACT_AT` tasks, else nothing: a short
    case never pays for it, and what a long one stores stays bounded."""
    return compact(workflow, keep()) if _size(workflow) > COMPACT_AT else set()


def run_engine(workflow: BpmnWorkflow, did_complete_task, keep: Callable[[], Iterable[str]]) -> None:
    """`BpmnWorkflow.do_engine_steps`, taking finished history out between its rounds whenever the tree has doubled
    (a loop of script tasks run within one step): without it each round walks every task run before it."""
    limit = max(COMPACT_AT, 2 * _size(workflow))
    while spiff.engine_round(workflow, did_complete_task):
        if _size(workflow) > limit:
            compact(workflow, keep())
            limit = max(COMPACT_AT, 2 * _size(workflow))
    workflow.refresh_timers()


def _size(workflow: BpmnWorkflow) -> int:
    return len(workflow.tasks) + sum(len(sub.tasks) for sub in workflow.subprocesses.values())


def visited(workflow: BpmnWorkflow) -> set[str]:
    """The elements (BPMN ids) the workflow completed, including those of tasks taken out of the tree."""
    return set(spiff.internal(workflow.task_tree, VISITED) or ()) | {
        t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id}


def _compact_tree(top: BpmnWorkflow, tree, keep_ids: set[UUID], visited: set[str]) -> set[UUID]:
    tasks = tree.tasks
    anchors = [t for t in tasks.values() if not t.state & FINISHED or t.id in keep_ids
               or (t.id in top.subprocesses and not top.subprocesses[t.id].completed)]
    if tree.last_task is not None and tree.last_task.id in tasks:
        anchors.append(tree.last_task)
    if not anchors:  # a finished (sub)workflow: nothing will run in it again, it is left as it is
        return set()
    base = _lowest_common_ancestor(anchors)
    kept = _subtree(base)
    chain = [base, *_kept_ancestors(base, tree.task_tree)]
    kept.update(task.id for task in chain)
    anchored = {task.id for task in anchors}
    for task in anchors:
        if task.id in kept:
            kept -= _finished_instances(task) - anchored
    if len(kept) == len(tasks):
        return set()
    doomed = {task_id for task_id in tasks if task_id not in kept}
    completed = set()
    for task_id in doomed:
        task = tasks[task_id]
        if task.state == TaskState.COMPLETED:
            completed.add(task_id)
            if task.task_spec.bpmn_id:
                visited.add(task.task_spec.bpmn_id)
        if task_id in top.subprocesses:
            for sub_task in top.delete_subprocess(task):
                if sub_task.state == TaskState.COMPLETED and sub_task.task_spec.bpmn_id:
                    visited.add(sub_task.task_spec.bpmn_id)
        top.event_manager.remove_task(task)
    for task, parent in zip(chain, chain[1:], strict=False):
        if task.parent is not parent:
            spiff.reparent(task, parent)
            forget_json(task)
    for task_id in spiff.detach(tree, doomed) | {tree.task_tree.id}:
        forget_json(tasks[task_id])
    return completed


def _kept_ancestors(base: Task, root: Task) -> list[Task]:
    """The ancestors of `base` that stay, nearest first, ending with the root: its parent and grandparent, and the
    nearest ancestor of each task spec. A walk up from a kept task then finds the same first ancestor of any
    given spec (or set of specs) as in the full tree: `find_ancestor`, and the parallel gateway's search for the
    incoming flow a looping branch came by, which may lead back to the start event."""
    kept, specs, task = [], set(), base.parent
    while task is not None and task is not root:
        if len(kept) < 2 or task.task_spec not in specs:
            kept.append(task)
        specs.add(task.task_spec)
        task = task.parent
    return [*kept, root] if base is not root else []


def _lowest_common_ancestor(anchors: list[Task]) -> Task:
    """The deepest task every anchor descends from (or is); each task is walked at most once."""
    path, depth_of = [], {}
    task = anchors[0]
    while task is not None:
        depth_of[task.id] = len(path)
        path.append(task)
        task = task.parent
    lowest, seen = 0, set()
    for task in anchors[1:]:
        while task.id not in depth_of and task.id not in seen:
            seen.add(task.id)
            task = task.parent
        if task.id in depth_of:
            lowest = max(lowest, depth_of[task.id])
    return path[lowest]


def _subtree(task: Task) -> set[UUID]:
    found, stack = set(), [task]
    while stack:
        task = stack.pop()
        found.add(task.id)
        stack.extend(child for child in task.children if child is not None)
    return found


def _finished_instances(task: Task) -> set[UUID]:
    """The finished instances of a running loop activity, with their subtrees, but the last one merged."""
    merged = spiff.internal(task, "merged") or []
    last = merged[-1] if merged else None
    found = set()
    for child in spiff.loop_instances(task):
        if str(child.id) == last or not child.state & FINISHED:
            continue
        below = _subtree(child)
        if all(child.workflow.tasks[i].state & FINISHED for i in below):
            found |= below
    return found
