"""What a Camunda element does when it starts and ends: its mappings and listeners, run as the task's pre/post-script.

The parser (parser.py) reads an element's `camunda:inputOutput`, execution and task listeners and the take
listeners of the flows into it, and writes them as a *program* in the spec's `prescript` (start: input mappings,
take listeners of the flow that led here, start listeners, create task listeners) and `postscript` (end: complete
task listeners, end listeners, output mappings). SpiffWorkflow runs those scripts at exactly those moments on every
activity; the kernel's script engine hands a program to `CamundaPrograms` instead of the Python sandboxes
(engine/core/languages.py, `TaskProgram`). A program is JSON behind a `#` line, so it is never mistaken for Python.

Any failure puts the instance in `error` naming the element and what failed. A handler's `BpmnError` is thrown to
the boundary event catching its code (bpmn_errors.py).
"""

from __future__ import annotations

import json
from copy import deepcopy
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException

from engine.camunda import listeners, mapping
from engine.camunda.bpmn_errors import throw
from engine.camunda.handlers import BpmnError
from engine.camunda.service_task import HANDLERS_EXTENSION
from engine.core.languages import extension

MARKER = "#camunda-program\n"
# Internal data: the variables the start program set. A waiting event is updated again and again, and each time
# re-inherits its parent's variables; the program runs once and its changes are put back.
STARTED = "camunda_started"


def encode(element_id: str, phase: str, steps: list[dict[str, Any]], inputs: list, outputs: list) -> str:
    return MARKER + json.dumps({"element": element_id, "phase": phase, "steps": steps, "inputs": inputs,
                                "outputs": outputs}, separators=(",", ":"))


@lru_cache(maxsize=1024)
def decode(script: str) -> dict[str, Any]:
    return json.loads(script[len(MARKER):])


def programs(element_id: str, inputs: list, outputs: list, element_listeners: list[listeners.Listener],
             take: list[tuple[str, listeners.Listener]], prescript: str | None,
             postscript: str | None) -> tuple[str | None, str | None]:
    """The (pre, post) scripts of an element; an existing Python pre/post-script runs first/last."""
    start: list[dict[str, Any]] = [{"do": "python", "script": prescript}] if prescript else []
    if inputs:
        start.append({"do": "inputs"})
    start += [{"do": "listener", "from": source, "listener": listener} for source, listener in take]
    start += [{"do": "listener", "listener": item} for item in element_listeners if item["event"] == "start"]
    start += [{"do": "listener", "listener": item} for item in element_listeners if item["event"] == "create"]
    end = [{"do": "listener", "listener": item} for item in element_listeners if item["event"] == "complete"]
    end += [{"do": "listener", "listener": item} for item in element_listeners if item["event"] == "end"]
    if inputs or outputs:
        end.append({"do": "outputs"})
    if postscript:
        end.append({"do": "python", "script": postscript})
    pre = encode(element_id, "start", start, inputs, outputs) if start else prescript
    post = encode(element_id, "end", end, inputs, outputs) if end else postscript
    return pre, post


class CamundaPrograms:
    """The kernel's `TaskProgram` for Camunda elements."""

    name = "camunda"

    def handles(self, script: str) -> bool:
        return script.startswith(MARKER)

    def run(self, task: Any, script: str) -> None:
        program = decode(script)
        if program["phase"] == "start":
            done = task.internal_data.get(STARTED)
            if done is not None:  # updated again while waiting: the task re-inherited its parent's variables
                task.data.update(deepcopy(done))
                return
            before = deepcopy(task.data)
        self.steps(task, program)
        if program["phase"] == "start":
            task.internal_data[STARTED] = {name: deepcopy(value) for name, value in task.data.items()
                                           if name not in before or before[name] != value}

    def steps(self, task: Any, program: dict[str, Any]) -> None:
        for step in program["steps"]:
            thrown = None
            try:
                self.step(task, program, step)
            except BpmnError as error:
                thrown = error
            except (mapping.MappingError, listeners.ListenerError) as err:
                raise WorkflowTaskException(f"{program['element']}: {err}", task=task) from err
            if thrown is not None:  # thrown outside the except block, so an uncaught error reports its code
                throw(task, thrown.code, thrown.message, thrown.variables)
                return

    def step(self, task: Any, program: dict[str, Any], step: dict[str, Any]) -> None:
        engine = task.workflow.script_engine
        if step["do"] == "python":
            engine.execute(task, step["script"])
        elif step["do"] == "inputs":
            mapping.apply_inputs(program["inputs"], task.data, _python(task))
        elif step["do"] == "outputs":
            outside = task.parent.data if task.parent is not None else {}
            mapping.apply_outputs(program["inputs"], program["outputs"], task.data, outside, _python(task))
        elif "from" not in step or _came_from(task) == step["from"]:
            listeners.run(step["listener"], task.data, extension(engine, HANDLERS_EXTENSION),
                          lambda script: engine.execute(task, script))


def _came_from(task: Any) -> str | None:
    """The BPMN element the instance left to reach `task` (skipping SpiffWorkflow's own helper tasks)."""
    parent = task.parent
    while parent is not None and not getattr(parent.task_spec, "bpmn_id", None):
        parent = parent.parent
    return parent.task_spec.bpmn_id if parent is not None else None


def _python(task: Any):
    """Runs a mapping's Python script: an expression gives its value; a longer script, what it assigns to the
    parameter's name (the element's variables are not changed by it)."""
    engine = task.workflow.script_engine

    def run(script: str, name: str) -> Any:
        try:
            compile(script, "<parameter>", "eval")
        except SyntaxError:
            scratch = deepcopy(task.data)
            engine.environment.execute(script, scratch, {})
            return scratch.get(name)
        return engine.evaluate(task, script)
    return run
