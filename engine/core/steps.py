"""Running a step of a workflow: every completed task audited, any failure made the instance's error (naming the
element), completion decided by the engine, and the size limits on data."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from engine.core import compaction, spiff, timers
from engine.core.sandbox import SandboxError, ScriptLimitExceeded
from engine.core.sandbox import ScriptError as SandboxScriptError
from engine.core.scripts import SandboxViolation, ScriptRun
from engine.core.work import Snapshot, Work, snapshot
from engine.errors import (
    ClientflowError,
    InvalidInput,
    ScriptError,
)

if TYPE_CHECKING:
    from engine.core.services import Services


def _step_recorder(work: Work):
    def did_complete(task) -> None:
        spec = task.task_spec
        if isinstance(spec, ExclusiveGateway | InclusiveGateway):
            taken = [c.task_spec.bpmn_id or c.task_spec.name for c in task.children
                     if c.state not in (TaskState.MAYBE, TaskState.LIKELY, TaskState.CANCELLED)]
            work.record("gateway_taken", element_id=spec.bpmn_id, task_id=str(task.id), taken=taken)
        elif spec.__class__.__name__ in ("ScriptTask", "BusinessRuleTask"):
            work.record("script_ran" if spec.__class__.__name__ == "ScriptTask" else "rule_evaluated",
                        element_id=spec.bpmn_id, task_id=str(task.id))
    return did_complete


def run_step(work: Work, step: Callable[[], None]) -> None:
    """Run `step` then the engine; any failure leaves the instance in `error` naming the element and reason.

    A failure inside a task leaves that task in ERROR (`retry` runs it again); one outside every task (a data
    mapping, a multi-instance collection, a message) keeps the instance's last good state. Domain errors raised
    on purpose (a refused action) pass through and nothing is saved."""
    work.ran = True
    try:
        with work.outbox, ScriptRun() as scripts:
            try:
                step()
                compaction.run_engine(work.workflow, _step_recorder(work), work.named_tasks)
                work.snapshot = snapshot(work.workflow)
                timers.anchor_due_times(work.workflow, work.snapshot.waiting_timers, work.now)
            finally:
                for element_id, lines in scripts.output:
                    work.record("script_output", element_id=element_id, lines=list(lines))
    except ClientflowError:
        raise
    except Exception as err:  # noqa: BLE001 - every other failure is the instance's error, never the caller's
        mark_error(work, err)


def _script_error(err: Exception) -> ScriptError:
    if isinstance(err, ScriptError):
        return err
    task = getattr(err, "task", None) or task_in_traceback(err)
    element_id = task.task_spec.bpmn_id if task is not None else getattr(err, "task_spec_id", None)
    inner = err
    if isinstance(err, WorkflowException):  # SpiffWorkflow raises its wrapper inside `except` of the cause
        inner = err.__cause__ or err.__context__ or err
    if isinstance(inner, ScriptLimitExceeded):
        message = str(inner)
    elif isinstance(inner, SandboxScriptError):
        message = f"sandbox: {inner.message}" if inner.error_type == "SandboxViolation" \
            else f"{inner.error_type}: {inner.message}"
    elif isinstance(inner, SandboxError | SandboxViolation):
        message = f"sandbox: {inner}"
    elif isinstance(inner, WorkflowException):
        message = str(inner.args[0] if inner.args else inner)
    else:
        message = f"{inner.__class__.__name__}: {inner}"
    line = getattr(err, "line_number", None) or None
    return ScriptError(message[:2000], element_id=element_id, line=line)


def task_in_traceback(err: BaseException):
    """The SpiffWorkflow task a raw exception was raised for (the innermost frame holding one), or None."""
    found, tb = None, err.__traceback__
    while tb is not None:
        for name in ("my_task", "task"):
            candidate = tb.tb_frame.f_locals.get(name)
            if getattr(candidate, "task_spec", None) is not None and hasattr(candidate, "workflow"):
                found = candidate
        tb = tb.tb_next
    return found


def mark_error(work: Work, err: Exception) -> None:
    """Put the instance in `error` for `err`; the task it names, if still open, is put in ERROR."""
    script_error = _script_error(err)
    task = getattr(err, "task", None) or task_in_traceback(err)
    if task is not None and not task.state & (TaskState.FINISHED_MASK | TaskState.PREDICTED_MASK):
        spiff.mark_failed(task)  # failed outside its own run (a timer's due time, an event): retry takes it
    work.failed = script_error
    has_failed_task = task is not None and task.state == TaskState.ERROR
    work.revert = work.row.id is not None and not has_failed_task and not snapshot(work.workflow).errors
    work.row.status = "error"
    work.row.error_message = script_error.message
    work.row.error_element_id = script_error.element_id
    work.row.error_line = script_error.line
    if work.revert:
        work.events = [e for e in work.events if e["kind"] == "script_output"]
    work.record("error", element_id=script_error.element_id, message=script_error.message,
                line=script_error.line, **({"kept": "last good state"} if work.revert else {}))


def status_of(workflow: BpmnWorkflow, snap: Snapshot) -> str:
    if snap.errors:
        return "error"
    if is_finished(workflow):
        return "completed" if workflow.success else "cancelled"
    return "running"


def is_finished(workflow: BpmnWorkflow) -> bool:
    """No task of the workflow is waiting, ready, running or predicted; checked over every task, not with
    SpiffWorkflow's depth-limited tree walk (`is_completed`)."""
    return not any(task.state & TaskState.NOT_FINISHED_MASK for task in workflow.tasks.values())


def check_sizes(services: Services, data: dict[str, Any]) -> None:
    """Refuse a value from a form or the API larger than `max_variable_bytes` (as JSON), naming its field."""
    for name, value in data.items():
        try:
            size = len(json.dumps(value, default=str))
        except (TypeError, ValueError, RecursionError) as err:
            raise InvalidInput(f"{name}: not storable as JSON ({err})") from err
        if size > services.max_variable_bytes:
            raise InvalidInput(f"{name}: the value is {size:,} bytes, over the {services.max_variable_bytes:,}-byte "
                               "limit for one field")
