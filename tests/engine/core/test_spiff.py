"""Each private SpiffWorkflow internal the engine uses (engine/core/spiff.py) still behaves as we rely on."""

from __future__ import annotations

from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.core import spiff

MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="review" name="Review"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def _workflow(tmp_path: Path) -> BpmnWorkflow:
    path = tmp_path / "p.bpmn"
    path.write_text(MODEL)
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(path))
    workflow = BpmnWorkflow(parser.get_spec("p"))
    workflow.do_engine_steps()
    return workflow


def _review(workflow: BpmnWorkflow):
    return next(t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "review")


def test_child_and_parent_ids_match_the_public_task_links(tmp_path):
    workflow = _workflow(tmp_path)
    for task in workflow.get_tasks():
        assert spiff.child_ids(task) == [child.id for child in task.children]
        assert spiff.parent_id(task) == (task.parent.id if task.parent is not None else None)


def test_make_ready_puts_a_failed_task_back_to_ready(tmp_path):
    task = _review(_workflow(tmp_path))
    task._set_state(TaskState.ERROR)
    spiff.make_ready(task)
    assert task.state == TaskState.READY


def test_internal_data_is_kept_and_survives_serialization(tmp_path):
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

    workflow = _workflow(tmp_path)
    task = _review(workflow)
    assert spiff.internal(task, "clientflow_due") is None
    spiff.set_internal(task, clientflow_due="2026-03-02T09:00:00+00:00", other=1)
    assert spiff.internal(task, "clientflow_due") == "2026-03-02T09:00:00+00:00"
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    restored = serializer.deserialize_json(serializer.serialize_json(workflow))
    assert spiff.internal(_review(restored), "clientflow_due") == "2026-03-02T09:00:00+00:00"
    assert spiff.internal(_review(restored), "other") == 1
