"""The spec of a Camunda service task: a registered Python handler runs it, otherwise it waits for a worker.

A task with `camunda:type="external"` waits on its `camunda:topic`. `camunda:class`, `camunda:delegateExpression`
and bean calls in `camunda:expression` run the handler registered under the class or bean name; without one
they wait as external tasks on a topic of that name, so the step is served by a worker instead of failing. An
expression that calls no bean (`${execution.setVariable('x', 1)}`, `${a + b}`) is evaluated as JUEL.

Waiting = SpiffWorkflow's STARTED state (`_run_hook` returns None); engine/camunda/external.py keeps an
`external_task` row for each such task and completes it when a worker reports.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask

from engine.camunda import el
from engine.camunda.bpmn_errors import throw
from engine.camunda.el_parse import parse
from engine.camunda.handlers import BpmnError
from engine.core.languages import extension

HANDLERS_EXTENSION = "camunda.handlers"


def bean_of(expression: str) -> str | None:
    """The bean an expression calls (`${calculator.add(a)}` -> calculator), or None when it names none."""
    _kind, parts = parse(expression)
    if len(parts) != 1 or not isinstance(parts[0], tuple):
        return None
    node = parts[0]
    while node[0] in ("call", "get"):
        node = node[1]
    if node[0] == "var" and node[1] not in ("execution", "task"):
        return node[1]
    return None


class CamundaServiceTask(ServiceTask, SpiffBpmnTask):
    """A service or send task implemented by a handler or an external worker."""

    def __init__(self, wf_spec, bpmn_id, kind: str, target: str, result_variable: str | None = None, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.kind, self.target, self.result_variable = kind, target, result_variable

    @property
    def handler_name(self) -> str | None:
        """The registry name serving this task, None for an external task or a plain expression."""
        if self.kind == "class":
            return self.target
        if self.kind in ("delegateExpression", "expression"):
            return bean_of(self.target)
        return None

    @property
    def topic(self) -> str:
        return self.target if self.kind == "external" else (self.handler_name or self.target)

    def _run_hook(self, task) -> bool | None:
        if self.kind == "external":
            return None
        name = self.handler_name
        if name is None:  # a JUEL expression calling no bean
            result = el.evaluate(self.target, task.data, task.data.get("reference"))
            if self.result_variable:
                task.data[self.result_variable] = result
            return True
        handlers = extension(task.workflow.script_engine, HANDLERS_EXTENSION)
        handler = handlers.get(name) if handlers is not None else None
        if handler is None:
            return None  # waits for a worker on the topic named after the class or bean
        try:
            changes = handler(dict(task.data))
        except BpmnError as error:
            thrown = error
        else:
            self.apply(task, changes)
            return True
        # As in Camunda: the error boundary event for its code takes over (it cancels this task when it runs);
        # with none, the task fails and the instance is an incident naming the element.
        throw(task, thrown.code, thrown.message, thrown.variables)
        return None

    def apply(self, task, changes: dict[str, Any] | None) -> None:
        if not changes:
            return
        if self.result_variable and "result" in changes and self.kind == "expression":
            changes = {**changes, self.result_variable: changes["result"]}
            changes.pop("result")
        task.data.update(changes)
