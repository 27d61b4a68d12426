"""Script bombs on a real RQ worker: a timer job whose script breaches the sandbox's limits puts the instance in
`error`, the job ends within the script budget, and the worker process itself neither grows nor stops working.

The worker runs jobs in its own process (`SimpleWorker`), so a bomb evaluated in-process would show up in its
resident memory; the sandbox's child processes are separate and are not counted."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.sax.saxutils import escape

import psutil

from tests.worker.fixtures import PATIENCE
from tests.worker.harness import BPMN_HEAD, wait_until

CPU_SECONDS, WALL_SECONDS = "0.5", "3"
BOMBS = {
    "memory": "x = ''.ljust(400 * 10**6)",
    "list": "x = list(range(3 * 10**8))",
    "cpu": "x = sum(range(10**11))",
}

# Waits one second on a timer, then runs the script: the script is evaluated by the worker's timer job.
TIMED_SCRIPT = BPMN_HEAD.format(key="{key}") + """
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="later"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"PT1S"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:scriptTask id="run_code"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="later" />
    <bpmn:sequenceFlow id="f2" sourceRef="later" targetRef="run_code" />
    <bpmn:sequenceFlow id="f3" sourceRef="run_code" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def deploy(engine, key: str, script: str) -> None:
    engine.deploy_files({f"{key}.bpmn": TIMED_SCRIPT.format(key=key, script=escape(script))}, key)


def worker_rss(worker) -> int:
    return psutil.Process(worker.pid).memory_info().rss


def test_bombs_in_timer_jobs_end_in_error_and_the_worker_does_not_grow(engine, start_worker, worker_env):
    env = {**worker_env, "CLIENTFLOW_SCRIPT_TIME_LIMIT": CPU_SECONDS, "CLIENTFLOW_SCRIPT_WALL_SECONDS": WALL_SECONDS}
    worker = start_worker(env=env)
    deploy(engine, "harmless", "total = 40 + 2")
    for key, script in BOMBS.items():
        deploy(engine, key, script)
    # Warm the worker (imports, parsed models, its sandbox pool) with a harmless script before measuring.
    warm = engine.start("harmless")
    wait_until(lambda: engine.instance_detail(warm.id).instance.status == "completed", PATIENCE, what="the warm-up")
    before = worker_rss(worker)

    for key in BOMBS:
        instance = engine.start(key)
        [timer] = engine.timers(instance.id)
        status = wait_until(lambda i=instance: _ended(engine, i.id), 20, interval=0.05, what=f"the {key} bomb")
        late = (datetime.now(UTC) - timer.due_at).total_seconds()
        assert status == "error", (key, status)
        error = engine.instance_detail(instance.id).instance.error
        assert "script exceeded" in error and "run_code" in error, (key, error)
        # The job ended within the script's wall budget after the due time (plus the sweep/poll and a replacement
        # sandbox process's start on a busy machine).
        assert late < float(WALL_SECONDS) + 4, (key, late)
        assert worker.alive(), worker.output()

    grown = (worker_rss(worker) - before) / 2**20
    assert grown < 30, f"the worker grew by {grown:.0f} MB after the bombs"
    # The worker still does its work after the bombs.
    after = engine.start("harmless")
    wait_until(lambda: engine.instance_detail(after.id).instance.status == "completed", PATIENCE, what="a later job")
    assert engine.instance_detail(after.id).data["total"] == 42


def _ended(engine, instance_id: int) -> str | None:
    status = engine.instance_detail(instance_id).instance.status
    return status if status in ("error", "completed") else None
