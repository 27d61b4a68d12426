"""Throwing a BPMN error from a running Camunda task (a handler's or worker's `BpmnError`), as Camunda does.

The error goes to the catch event waiting for its code (an error boundary event of the task or of a subprocess
around it, or an error event subprocess); when nothing catches it the task fails, so the instance is an incident
naming the element.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.util.task import TaskState


def throw(task, code: str, message: str | None, variables: dict | None = None) -> None:
    """Throw BPMN error `code` from `task` with `variables` (set on the path the catching event takes); when no
    catch event waits for it the task fails (an incident), keeping the variables."""
    catching = _catching_task(task, code)
    if catching is None:
        task.data.update(variables or {})
        task.error()
        raise WorkflowTaskException(f"BPMN error {code!r} was not caught" + (f": {message}" if message else ""),
                                    task=task)
    payload = {**task.data, **(variables or {})}
    definition = catching.task_spec.event_definition
    task.workflow.top_workflow.catch(BpmnEvent(definition, payload=payload, target=task.workflow))
    # The path the catching event takes goes on with the task's variables and those the error carried.
    catching.data.update(payload)


def _catching_task(task, code: str):
    """A waiting catch event for error `code` (events match by name and code)."""
    top = task.workflow.top_workflow
    for tasks_of in (top.tasks, *(sub.tasks for sub in top.subprocesses.values())):
        for waiting in tasks_of.values():
            definition = getattr(waiting.task_spec, "event_definition", None)
            if waiting.state == TaskState.WAITING and isinstance(definition, ErrorEventDefinition) \
                    and definition.code in (None, code):
                return waiting
    return None
