"""Engine benchmark, growth part: what one step of a long-running case costs as its history grows.

One instance of a loop model (a user task, then a gateway that leads back to it) is driven round after round; each
round finishes two tasks. The completions around 10 and around 1,000 finished tasks are timed, with the stored
state's size and the time to restore the instance once its live copy is dropped (`engine.growth` in
bench-results.json, per database)."""

from __future__ import annotations

import statistics
import time
from typing import Any

from sqlalchemy import func, select

from engine.core.db.models import ProcessInstance
from engine.core.unit_of_work import restore
from engine.facade import Engine

LOOP_KEY = "bench_loop"
LOOP_MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="loop_definitions" targetNamespace="x">
  <bpmn:process id="bench_loop" name="A case that loops" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="round" name="One round"><bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>again</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:exclusiveGateway id="more" default="done"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>again</bpmn:outgoing><bpmn:outgoing>done</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="end"><bpmn:incoming>done</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="round" />
    <bpmn:sequenceFlow id="f2" sourceRef="round" targetRef="more" />
    <bpmn:sequenceFlow id="again" sourceRef="more" targetRef="round">
      <bpmn:conditionExpression>not finished</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="done" sourceRef="more" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""
TASKS_PER_ROUND = 2  # the user task and the gateway
MEASURED_AT = (10, 1000)  # finished tasks
# The figures `engine.growth` carries at its top level (SQLite's); `engine.growth.by_database` has every database's.
GROWTH_HEADLINE = ("step_ms_at_10", "step_ms_at_1000", "step_ratio")
STEPS_TIMED = 15  # steps timed at each point (the median is reported)
RESTORES_TIMED = 7


def measure_growth(engine: Engine, actor: str | None = None) -> dict[str, Any]:
    """Step time (ms), stored state (bytes) and restore time after a live-cache miss (ms), at 10 and at 1,000
    finished tasks; `step_ratio` is the time at 1,000 over the time at 10.

    The two points are timed in turn, step by step (this machine's speed drifts within seconds): each sample at 10
    is the next step of a new instance brought to 10 finished tasks, each sample at 1,000 the next step of one
    instance brought to 1,000 first."""
    engine.deploy_files({"bench_loop.bpmn": LOOP_MODEL}, LOOP_KEY, by=actor)
    low, high = MEASURED_AT
    old = _looping(engine, actor, high)
    spent: dict[int, list[float]] = {low: [], high: []}
    young = None
    for _ in range(STEPS_TIMED):
        young = _looping(engine, actor, low)
        for point, instance_id in ((low, young), (high, old)):
            began = time.perf_counter()
            _round(engine, instance_id, actor)
            spent[point].append(time.perf_counter() - began)
    result: dict[str, Any] = {"model": "a user task and a gateway in a loop", "tasks_per_round": TASKS_PER_ROUND}
    for point, instance_id in ((low, young), (high, old)):
        result[f"step_ms_at_{point}"] = statistics.median(spent[point]) * 1000
        result[f"state_bytes_at_{point}"] = _state_bytes(engine, instance_id)
        result[f"restore_ms_at_{point}"] = _restore_ms(engine, instance_id)
    result["step_ratio"] = result[f"step_ms_at_{high}"] / result[f"step_ms_at_{low}"]
    return result


def _looping(engine: Engine, actor: str | None, finished: int) -> int:
    """A new instance of the loop model brought to `finished` finished tasks."""
    instance = engine.start(LOOP_KEY, {"customer_name": "Bench Ltd", "finished": False, "round": 0}, by=actor)
    for _ in range(finished // TASKS_PER_ROUND):
        _round(engine, instance.id, actor)
    return instance.id


def _round(engine: Engine, instance_id: int, actor: str | None) -> None:
    """List the instance's open task and complete it (as a client would): one round of the loop."""
    [task] = engine.tasks(instance_id=instance_id)
    engine.complete(task.id, {"round": task.id}, by=actor)


def _state_bytes(engine: Engine, instance_id: int) -> int:
    with engine.read_session() as session:
        return session.execute(select(func.length(ProcessInstance.state))
                               .where(ProcessInstance.id == instance_id)).scalar_one()


def _restore_ms(engine: Engine, instance_id: int) -> float:
    """Time to restore the instance's workflow with its live copy dropped: its row read, the state deserialized."""
    spent = []
    for _ in range(RESTORES_TIMED):
        engine.services.live.clear()
        began = time.perf_counter()
        with engine.read_session() as session:
            restore(engine.services, session, session.get(ProcessInstance, instance_id))
        spent.append(time.perf_counter() - began)
    return statistics.median(spent) * 1000
