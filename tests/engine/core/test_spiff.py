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


def test_detach_takes_tasks_out_of_the_tree_and_their_parents_child_lists(tmp_path):
    workflow = _workflow(tmp_path)
    review = _review(workflow)
    parent = review.parent
    doomed = {t.id for t in review}  # the review task and everything predicted under it
    assert spiff.detach(workflow, doomed) == {parent.id}
    assert not doomed & set(workflow.tasks) and review.id not in spiff.child_ids(parent)
    assert all(child is not None for task in workflow.get_tasks() for child in task.children)


def test_reparent_hangs_a_task_under_another_keeping_its_subtree(tmp_path):
    workflow = _workflow(tmp_path)
    review = _review(workflow)
    old_parent, root = review.parent, workflow.task_tree
    spiff.reparent(review, root)
    spiff.detach(workflow, {old_parent.id})
    assert review.parent is root and review.id in spiff.child_ids(root)
    assert review.is_descendant_of(root) and [t.task_spec.bpmn_id for t in review.children] == ["end"]
    assert review in workflow.get_tasks(state=TaskState.READY)


def test_engine_round_runs_ready_engine_tasks_once_and_says_whether_it_did(tmp_path):
    workflow = _workflow(tmp_path)
    assert spiff.engine_round(workflow) is False  # only the user task is ready
    review = _review(workflow)
    review.run()
    done = []
    assert spiff.engine_round(workflow, did_complete_task=done.append) is True
    assert [t.task_spec.bpmn_id for t in done] == ["end"]
    while spiff.engine_round(workflow):
        pass
    assert workflow.is_completed()


def test_loop_instances_are_the_children_running_the_inner_task(tmp_path):
    path = tmp_path / "m.bpmn"
    path.write_text(MODEL.replace('<bpmn:userTask id="review" name="Review">',
                                  '<bpmn:userTask id="review" name="Review"><bpmn:multiInstanceLoopCharacteristics>'
                                  '<bpmn:loopCardinality>3</bpmn:loopCardinality>'
                                  '</bpmn:multiInstanceLoopCharacteristics>'))
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(path))
    workflow = BpmnWorkflow(parser.get_spec("p"))
    workflow.do_engine_steps()
    [multi] = workflow.get_tasks(state=TaskState.STARTED)  # the activity, running its three instances
    instances = spiff.loop_instances(multi)
    assert len(instances) == 3 and all(t.task_spec.manual for t in instances)
    assert [t.task_spec.bpmn_id for t in multi.children if t not in instances] == ["end"]
    assert spiff.loop_instances(instances[0]) == [] and spiff.loop_instances(workflow.task_tree) == []
