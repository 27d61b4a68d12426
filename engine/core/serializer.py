"""Workflow state (de)serialization without the spec: specs are rebuilt from the deployed definition.

SpiffWorkflow's converter for the top-level workflow writes the whole spec into every instance's state; on
our models that is most of the JSON. Ours (registered through the serializer config, the third of Spiff's
extension tables) leaves the spec out and takes the cached, already-built spec back when restoring.

Saving after every step re-serializes a tree in which most tasks are finished and can no longer change, so
`dumps` keeps each finished task's JSON on the task object and writes it again as it is; only live tasks are
converted. The output is the same document Spiff's own `serialize_json` would write (less the spec): with
`check` (`CLIENTFLOW_CHECK_STATE=1`, which the test suite sets) every `dumps` is compared with a full conversion.
"""

from __future__ import annotations

import json
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, TaskConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.core import spiff

FINISHED = TaskState.COMPLETED | TaskState.CANCELLED
_FRAGMENT = "_clientflow_json"  # (key, JSON text) kept on a finished task


def forget_json(task: Task) -> None:
    """Drop a task's kept JSON: the next save converts it again (its internal data or children changed)."""
    task.__dict__.pop(_FRAGMENT, None)


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


def _compact_encoder(default):
    """JSON text without spaces, with SpiffWorkflow's encoder hook for its own types.

    The C encoder is made once: `json.dumps` builds a new one for every call, a third of the cost of encoding
    one task. No check for circular references (task data is a tree; a cycle still fails, as RecursionError)."""
    make = json.encoder.c_make_encoder
    if make is None:  # pragma: no cover - CPython always has the C accelerator
        return json.JSONEncoder(default=default, separators=(",", ":")).encode
    encoder = make(None, default, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, True)
    return lambda value: "".join(encoder(value, 0))


class StateSerializer:
    """Turns a running workflow into a JSON string and back, given the workflow's specs."""

    def __init__(self, check: bool = False):
        config = dict(SPIFF_CONFIG)
        config[BpmnWorkflow] = SpeclessWorkflowConverter
        self._serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))
        self._registry = self._serializer.registry
        self._encode = _compact_encoder(self._serializer._encoder_cls().default)
        self.version = self._serializer.VERSION
        self.check = check
        if not isinstance(self._serializer.registry.convert_to_dict[self._registry.typenames[Task]].args[1].__self__,
                          TaskConverter):  # pragma: no cover - a SpiffWorkflow upgrade changed its task format
            raise RuntimeError("SpiffWorkflow no longer serializes tasks with TaskConverter: review _task_dict")
        self._task_typename = self._registry.typenames[Task]

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
        raw = {"tasks": "{" + ",".join(map(self._task_entry, workflow.tasks.values())) + "}", **raw}
        return self._encode(head)[:-1] + "".join(f',"{name}":{value}' for name, value in raw.items()) + "}"

    def _subprocess_json(self, subprocess) -> str:
        return self._workflow_json(subprocess, {}, {"parent_task_id": str(subprocess.parent_task_id),
                                                    "spec": subprocess.spec.name})

    def _object(self, mapping, encode) -> str:
        return "{" + ",".join(f'"{key}":{encode(value)}' for key, value in mapping.items()) + "}"

    def _task_entry(self, task) -> str:
        """`"<id>":{...}` for one task, reused while the task's JSON cannot have changed.

        A task's JSON holds its own fields, its data as a delta against its parent's data, and its internal
        data. It is fixed while nothing in the key changes (state, time of the last state change, spec, the
        list of children - SpiffWorkflow appends to or removes from it, or replaces it) when either
        - the task is finished under a finished parent (neither's data changes any more), or
        - the task carries no data of its own (a predicted task): then its delta only lists its parent's keys.
        Whoever changes a finished task otherwise (engine/core/compaction.py) calls `forget_json`.
        """
        parent = task.parent
        children = spiff.child_ids(task)
        if task.state & FINISHED and (parent is None or parent.state & FINISHED):
            key = (task.state, task.last_state_change, task.task_spec, id(children), len(children), task.triggered,
                   spiff.parent_id(task))
        elif not task.data and not task.internal_data:
            key = (task.state, task.last_state_change, task.task_spec, id(children), len(children), task.triggered,
                   spiff.parent_id(task), None if parent is None else tuple(parent.data))
        else:
            return f'"{task.id}":{self._encode(self._task_dict(task))}'
        cached = getattr(task, _FRAGMENT, None)
        if cached is not None and cached[0] == key:
            return cached[1]
        if key[-1].__class__ is tuple and task.last_state_change.__class__ is float:
            text = self._predicted_entry(task, key[-1])
        else:
            text = f'"{task.id}":{self._encode(self._task_dict(task))}'
        setattr(task, _FRAGMENT, (key, text))
        return text

    def _predicted_entry(self, task, parent_keys: tuple) -> str:
        """`_task_dict` of a task with no data of its own under a parent, written straight as text: most of a
        new instance's tasks are such predicted ones."""
        children = ",".join(f'"{child}"' for child in spiff.child_ids(task))
        return (f'"{task.id}":{{"id":"{task.id}","parent":"{spiff.parent_id(task)}","children":[{children}],'
                f'"last_state_change":{task.last_state_change!r},"state":{task.state:d},'
                f'"task_spec":{self._encode(task.task_spec.name)},"triggered":{"true" if task.triggered else "false"},'
                f'"internal_data":{{}},"data":{{}},"delta":{{"updates":{{}},"deletions":{self._encode(list(parent_keys))}}},'
                f'"typename":{self._encode(self._task_typename)}}}')

    def _task_dict(self, task) -> dict:
        """What SpiffWorkflow's `TaskConverter.to_dict` returns (checked in `__init__`), without the registry's
        dispatch: a task's data is written as a delta against its parent's."""
        parent = task.parent
        if parent is None:
            data, delta = task.data, {}
        else:
            mine, theirs = task.data, parent.data
            data = {}
            delta = {"updates": {k: v for k, v in mine.items() if k not in theirs or v != theirs[k]},
                     "deletions": [k for k in theirs if k not in mine]}
        return {"id": str(task.id), "parent": str(spiff.parent_id(task)) if parent is not None else None,
                "children": [str(child) for child in spiff.child_ids(task)],
                "last_state_change": task.last_state_change, "state": task.state,
                "task_spec": task.task_spec.name, "triggered": task.triggered,
                "internal_data": self._registry.clean(task.internal_data), "data": data, "delta": delta,
                "typename": self._task_typename}

    def _check(self, workflow: BpmnWorkflow, text: str) -> None:
        full = json.loads(self._serializer.serialize_json(workflow))
        if json.loads(text) != full:
            raise AssertionError(f"incremental state differs from a full serialization: {text} != {full}")

    def loads(self, state: str, spec, subprocess_specs) -> BpmnWorkflow:
        dct = json.loads(state)
        self._serializer.migrate(dct)
        return self._serializer.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)
