"""Long-running cases (issue 17): finished history leaves the live state, so a 1,000-round loop and a 1,000-child
multi-instance run correctly, restore from the database after the live cache is dropped, and keep a state whose
size does not grow with the rounds. The suite's CLIENTFLOW_CHECK_STATE=1 compares every save with a full
serialization of the compacted workflow."""

from __future__ import annotations

import json

from sqlalchemy import select

from engine.core import compaction
from engine.core.db.models import ProcessInstance
from tests.engine.test_status_truth import END, LOOP, START, flows, model


def _state_bytes(engine, instance_id: int) -> int:
    with engine.read_session() as session:
        return len(session.execute(select(ProcessInstance.state).where(ProcessInstance.id == instance_id)).scalar_one())


def _state_tasks(engine, instance_id: int) -> int:
    with engine.read_session() as session:
        state = session.execute(select(ProcessInstance.state).where(ProcessInstance.id == instance_id)).scalar_one()
    return len(json.loads(state)["tasks"])


USER_LOOP = START + '''<bpmn:userTask id="round" name="Round"><bpmn:incoming>f1</bpmn:incoming>
  <bpmn:incoming>again</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:exclusiveGateway id="more" default="f9"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>again</bpmn:outgoing>
  <bpmn:outgoing>f9</bpmn:outgoing></bpmn:exclusiveGateway>''' + END + \
    flows(("f1", "s", "round"), ("f2", "round", "more"), ("f9", "more", "e")) + \
    '<bpmn:sequenceFlow id="again" sourceRef="more" targetRef="round">' \
    '<bpmn:conditionExpression>n &lt; 500</bpmn:conditionExpression></bpmn:sequenceFlow>'


def test_a_user_task_looped_500_times_keeps_a_flat_state_and_restores(engine):
    """500 rounds of a user task and a gateway: 1,000 finished tasks, one step each round."""
    engine.deploy_files({"rounds.bpmn": model("rounds", USER_LOOP)}, "rounds")
    instance = engine.start("rounds", {"n": 0, "history_note": "kept"})
    sizes = {}
    for n in range(1, 501):
        [task] = engine.tasks(instance_id=instance.id)
        assert task.element_id == "round"
        result = engine.complete(task.id, {"n": n})
        if n in (10, 499):
            sizes[n] = (_state_bytes(engine, instance.id), _state_tasks(engine, instance.id))
        if n % 120 == 0:
            engine.live.clear()  # the next step restores the instance from the database
    assert result.status == "completed"
    # A save takes the history out once the tree passes COMPACT_AT tasks: at round 499 the state holds no more than
    # that (it held 1,006 tasks, 363 KB, before), and no more than a few times what round 10 stored.
    assert sizes[499][1] <= compaction.COMPACT_AT and sizes[499][0] < 3 * sizes[10][0], sizes
    engine.live.clear()
    detail = engine.instance_detail(instance.id)
    assert detail.data["n"] == 500 and detail.data["history_note"] == "kept"
    assert {"s", "round", "more", "e"} <= set(detail.completed_elements)  # the diagram's marks survive the compaction
    completions = [e for e in engine.events(instance.id) if e.kind == "task_completed"]
    assert len(completions) == 500  # the audit trail keeps every round


def test_an_automatic_loop_of_1000_rounds_in_one_step_stores_only_its_frontier(engine):
    """The rounds run within one step: the engine takes the history out between rounds, not only at the save."""
    engine.deploy_files({"counting.bpmn": model("counting", LOOP)}, "counting")
    instance = engine.start("counting", {"n": 0})
    assert instance.status == "running"
    assert _state_tasks(engine, instance.id) <= compaction.COMPACT_AT  # not the 2,000 tasks it ran
    engine.live.clear()
    assert engine.instance_detail(instance.id).data["n"] == 1000
    [task] = engine.tasks(instance_id=instance.id)
    assert engine.complete(task.id, {}).status == "completed"


MULTI = START + '''<bpmn:scriptTask id="double" name="Double"><bpmn:incoming>f1</bpmn:incoming>
  <bpmn:outgoing>f2</bpmn:outgoing>
  <bpmn:multiInstanceLoopCharacteristics>
    <bpmn:loopDataInputRef>items</bpmn:loopDataInputRef><bpmn:loopDataOutputRef>doubled</bpmn:loopDataOutputRef>
    <bpmn:inputDataItem id="item"/><bpmn:outputDataItem id="twice"/>
  </bpmn:multiInstanceLoopCharacteristics><bpmn:script>twice = item * 2</bpmn:script></bpmn:scriptTask>
  <bpmn:userTask id="check" name="Check"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f9</bpmn:outgoing>
  </bpmn:userTask>''' + END + flows(("f1", "s", "double"), ("f2", "double", "check"), ("f9", "check", "e"))


def test_a_multi_instance_of_1000_children_completes_and_restores(engine):
    engine.deploy_files({"doubling.bpmn": model("doubling", MULTI)}, "doubling")
    instance = engine.start("doubling", {"items": list(range(1000))})
    assert instance.status == "running", instance.error
    assert _state_tasks(engine, instance.id) < 20  # the 1,000 finished children are not in the state
    engine.live.clear()
    assert engine.instance_detail(instance.id).data["doubled"] == [2 * i for i in range(1000)]
    [task] = engine.tasks(instance_id=instance.id)
    assert engine.complete(task.id, {}).status == "completed"


SEQUENTIAL = START + '''<bpmn:userTask id="visit" name="Visit"><bpmn:incoming>f1</bpmn:incoming>
  <bpmn:outgoing>f9</bpmn:outgoing>
  <bpmn:multiInstanceLoopCharacteristics isSequential="true">
    <bpmn:loopDataInputRef>clients</bpmn:loopDataInputRef><bpmn:loopDataOutputRef>visits</bpmn:loopDataOutputRef>
    <bpmn:inputDataItem id="client"/><bpmn:outputDataItem id="visited"/>
  </bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>''' + END + \
    flows(("f1", "s", "visit"), ("f9", "visit", "e"))


def test_a_sequential_multi_instance_of_user_tasks_completes_with_a_flat_state(engine):
    engine.deploy_files({"visits.bpmn": model("visits", SEQUENTIAL)}, "visits")
    instance = engine.start("visits", {"clients": [f"c{i}" for i in range(200)]})
    tasks_in_state = []
    for i in range(200):
        [task] = engine.tasks(instance_id=instance.id)
        result = engine.complete(task.id, {"visited": f"saw c{i}"})
        if i > 100:
            tasks_in_state.append(_state_tasks(engine, instance.id))
        if i % 70 == 0:
            engine.live.clear()
    assert result.status == "completed"
    assert max(tasks_in_state) <= compaction.COMPACT_AT  # the finished instances are not kept
    engine.live.clear()
    assert engine.instance_detail(instance.id).data["visits"] == [f"saw c{i}" for i in range(200)]


ROUNDS = START + '''<bpmn:parallelGateway id="split"><bpmn:incoming>f1</bpmn:incoming>
  <bpmn:incoming>again</bpmn:incoming>
  <bpmn:outgoing>a1</bpmn:outgoing><bpmn:outgoing>b1</bpmn:outgoing></bpmn:parallelGateway>
  <bpmn:userTask id="left" name="Left"><bpmn:incoming>a1</bpmn:incoming><bpmn:outgoing>a2</bpmn:outgoing>
  </bpmn:userTask>
  <bpmn:subProcess id="right" name="Right"><bpmn:incoming>b1</bpmn:incoming><bpmn:outgoing>b2</bpmn:outgoing>
    <bpmn:startEvent id="rs"><bpmn:outgoing>r1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="inner" name="Inner"><bpmn:incoming>r1</bpmn:incoming><bpmn:outgoing>r2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="re"><bpmn:incoming>r2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="r1" sourceRef="rs" targetRef="inner"/>
    <bpmn:sequenceFlow id="r2" sourceRef="inner" targetRef="re"/>
  </bpmn:subProcess>
  <bpmn:boundaryEvent id="escalate" attachedToRef="left" cancelActivity="false"><bpmn:outgoing>x1</bpmn:outgoing>
    <bpmn:messageEventDefinition messageRef="nudge"/></bpmn:boundaryEvent>
  <bpmn:endEvent id="noted"><bpmn:incoming>x1</bpmn:incoming></bpmn:endEvent>
  <bpmn:parallelGateway id="join"><bpmn:incoming>a2</bpmn:incoming><bpmn:incoming>b2</bpmn:incoming>
  <bpmn:outgoing>f2</bpmn:outgoing></bpmn:parallelGateway>
  <bpmn:scriptTask id="count" name="Count"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    <bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>
  <bpmn:exclusiveGateway id="more" default="f9"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>again</bpmn:outgoing>
  <bpmn:outgoing>f9</bpmn:outgoing></bpmn:exclusiveGateway>''' + END + \
    flows(("f1", "s", "split"), ("a1", "split", "left"), ("a2", "left", "join"), ("b1", "split", "right"),
          ("b2", "right", "join"), ("x1", "escalate", "noted"), ("f2", "join", "count"), ("f3", "count", "more"),
          ("f9", "more", "e")) + \
    '<bpmn:sequenceFlow id="again" sourceRef="more" targetRef="split">' \
    '<bpmn:conditionExpression>n &lt; 12</bpmn:conditionExpression></bpmn:sequenceFlow>'


def test_a_compacted_workflow_runs_as_the_full_one(engine, tmp_path):
    """A loop through a parallel split and join, an embedded subprocess and a boundary event, driven twice in
    memory: once as SpiffWorkflow keeps it, once compacted and restored from its JSON after every step. The same
    tasks are offered in the same order and the data ends the same; the compacted state stays small."""
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    from engine.core import bundle
    from engine.core.serializer import StateSerializer

    xml = model("rounds", ROUNDS).replace("<bpmn:process", '<bpmn:message id="nudge" name="nudge"/><bpmn:process')
    built = bundle.build_model({"rounds.bpmn": xml}, "rounds")
    serializer = StateSerializer(check=True)

    def new():
        workflow = BpmnWorkflow(built.spec, built.subprocess_specs, script_engine=engine.script_engine)
        workflow.data.update({"n": 0})
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update({"n": 0})
        workflow.do_engine_steps()
        return workflow

    full, compact = new(), new()
    offered, sizes = [], []
    for step in range(200):
        ready = {}
        for name, workflow in (("full", full), ("compact", compact)):
            ready[name] = sorted((t.task_spec.bpmn_id, t) for t in workflow.get_tasks(state=TaskState.READY)
                                 if t.task_spec.manual)
        assert [i for i, _ in ready["full"]] == [i for i, _ in ready["compact"]], (step, compact.get_dump())
        if not ready["full"]:
            break
        offered.append([i for i, _ in ready["full"]])
        for name, workflow in (("full", full), ("compact", compact)):
            task = ready[name][step % len(ready[name])][1]
            task.data.update({f"seen_{task.task_spec.bpmn_id}": step})
            task.run()
            workflow.do_engine_steps()
        compaction.compact(compact)
        text = serializer.dumps(compact)
        sizes.append(len(json.loads(text)["tasks"]) + sum(len(s["tasks"]) for s in json.loads(text)["subprocesses"]
                                                           .values()))
        compact = serializer.loads(text, built.spec, built.subprocess_specs)
        compact.script_engine = engine.script_engine
    assert full.is_completed() and compact.is_completed()
    assert compact.last_task.data == full.last_task.data and full.last_task.data["n"] == 12
    assert len(offered) == 24  # 12 rounds of two user tasks
    assert max(sizes[-6:]) <= max(sizes[:6]) + 2, sizes  # round 12 keeps as much as round 1
    assert len(full.tasks) > 10 * len(compact.tasks)
    assert compaction.visited(compact) >= {"left", "inner", "join", "count", "more", "e"}
