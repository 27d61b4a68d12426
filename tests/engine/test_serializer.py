"""Incremental state saving writes what SpiffWorkflow's own serializer would, and restores to the same workflow."""

import json

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.core import bundle
from engine.core.serializer import _FRAGMENT, StateSerializer

STEPS = {"capture": {"amount": 1500}, "review": {"approved": True}}


def _full(serializer: StateSerializer, workflow) -> dict:
    return json.loads(serializer._serializer.serialize_json(workflow))


@pytest.fixture
def order_workflow(engine, order_bundle):
    """The multi-lane test model (call activity, DMN, script, parallel gateway, boundary timer) in memory."""
    model = bundle.build_model(bundle.read_bundle(order_bundle, []))
    workflow = BpmnWorkflow(model.spec, model.subprocess_specs, script_engine=engine.script_engine)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update({"customer_name": "ACME"})
    workflow.do_engine_steps()
    return model, workflow


def test_every_save_matches_a_full_serialization_and_restores(order_workflow):
    model, workflow = order_workflow
    serializer = StateSerializer(check=False)
    saves = 0
    while not workflow.is_completed():
        text = serializer.dumps(workflow)
        assert json.loads(text) == _full(serializer, workflow)
        restored = serializer.loads(text, model.spec, model.subprocess_specs)
        assert _full(serializer, restored) == _full(serializer, workflow)
        saves += 1
        ready = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual]
        assert ready, "the model waits for a person at every stop"
        ready[0].data.update(STEPS.get(ready[0].task_spec.bpmn_id, {}))
        ready[0].run()
        workflow.do_engine_steps()
    assert json.loads(serializer.dumps(workflow)) == _full(serializer, workflow)
    assert saves >= 4
    finished = [t for t in workflow.get_tasks() if t.state & TaskState.COMPLETED]
    assert all(getattr(t, _FRAGMENT, None) for t in finished), "finished tasks are reused, not converted again"


def test_the_check_catches_a_stale_task(order_workflow):
    _, workflow = order_workflow
    serializer = StateSerializer(check=True)
    serializer.dumps(workflow)
    task = next(t for t in workflow.get_tasks() if getattr(t, _FRAGMENT, None))
    key, text = getattr(task, _FRAGMENT)
    setattr(task, _FRAGMENT, (key, text.replace('"triggered":false', '"triggered":true')))
    with pytest.raises(AssertionError, match="incremental state differs"):
        serializer.dumps(workflow)
