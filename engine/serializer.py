"""Workflow state (de)serialization without the spec: specs are rebuilt from the deployed definition.

SpiffWorkflow's converter for the top-level workflow writes the whole spec into every instance's state; on
our models that is most of the JSON. Ours (registered through the serializer config, the third of Spiff's
extension tables) leaves the spec out and takes the cached, already-built spec back when restoring.

Saving after every step re-serializes a tree in which most tasks are finished and can no longer change, so
`dumps` keeps each finished task's JSON on the task object and writes it again as it is; only live tasks are
converted. The output is the same document Spiff's own `serialize_json` would write (less the spec): with
`CLIENTFLOW_CHECK_STATE=1` (the test suite sets it) every `dumps` is compared with a full conversion.
"""

from __future__ import annotations

import json
import os
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

FINISHED = TaskState.COMPLETED | TaskState.CANCELLED
_FRAGMENT = "_clientflow_json"  # (key, JSON text) kept on a finished task


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Writes a workflow without its specs; restores it from specs handed in by the caller."""

    def to_dict(self, workflow):
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        if spec is None:
            raise ValueError("a spec-less workflow state needs its spec to be restored")
        workflow = self.target_class(spec, subprocess_specs or {}, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _uuid(value):
    return UUID(value)


class StateSerializer:
    """Turns a running workflow into a JSON string and back, given the workflow's specs."""

    def __init__(self, check: bool | None = None):
        config = dict(SPIFF_CONFIG)
        config[BpmnWorkflow] = SpeclessWorkflowConverter
        self._serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))
        self._registry = self._serializer.registry
        self._encode = self._serializer._encoder_cls().encode
        self.version = self._serializer.VERSION
        self.check = os.environ.get("CLIENTFLOW_CHECK_STATE") == "1" if check is None else check

    def dumps(self, workflow: BpmnWorkflow) -> str:
        self._registry._encoder_mode = True
        try:
            text = self._workflow_json(workflow, {
                "subprocesses": self._object(workflow.subprocesses, self._subprocess_json),
                "bpmn_events": self._encode(self._registry.convert(workflow.bpmn_events)),
            }, {self._serializer.VERSION_KEY: self.version})
        finally:
            self._registry._encoder_mode = False
        if self.check:
            self._check(workflow, text)
        return text

    def _workflow_json(self, workflow, raw: dict[str, str], extra: dict) -> str:
        """A (sub)workflow as Spiff's converters write it, its tasks from `_task_json`."""
        registry = self._registry
        head = {"data": registry.convert(registry.clean(workflow.data)), "correlations": workflow.correlations,
                "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
                "success": workflow.success, "completed": workflow.completed, "root": str(workflow.task_tree.id),
                "typename": registry.typenames[type(workflow)], **extra}
        raw = {"tasks": self._object(workflow.tasks, self._task_json), **raw}
        return self._encode(head)[:-1] + "".join(f',"{name}":{value}' for name, value in raw.items()) + "}"

    def _subprocess_json(self, subprocess) -> str:
        return self._workflow_json(subprocess, {}, {"parent_task_id": str(subprocess.parent_task_id),
                                                    "spec": subprocess.spec.name})

    def _object(self, mapping, encode) -> str:
        return "{" + ",".join(f'"{key}":{encode(value)}' for key, value in mapping.items()) + "}"

    def _task_json(self, task) -> str:
        # A finished task under a finished parent no longer changes: its data, and its delta against the
        # parent's data, are fixed. The key still guards against anything that would alter its JSON.
        parent = task.parent
        if not (task.state & FINISHED and (parent is None or parent.state & FINISHED)):
            return self._encode(self._registry.convert(task))
        key = (task.state, task.last_state_change, task.task_spec.name, tuple(task._children))
        cached = getattr(task, _FRAGMENT, None)
        if cached is not None and cached[0] == key:
            return cached[1]
        text = self._encode(self._registry.convert(task))
        setattr(task, _FRAGMENT, (key, text))
        return text

    def _check(self, workflow: BpmnWorkflow, text: str) -> None:
        full = json.loads(self._serializer.serialize_json(workflow))
        if json.loads(text) != full:
            raise AssertionError(f"incremental state differs from a full serialization: {text} != {full}")

    def loads(self, state: str, spec, subprocess_specs) -> BpmnWorkflow:
        dct = json.loads(state)
        self._serializer.migrate(dct)
        return self._serializer.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)
