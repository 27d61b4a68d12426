"""Engine benchmark: raw in-memory SpiffWorkflow vs clientflow persisted, on the same model in the same run."""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import create_engine, func, select, text

from engine.bench_clients import ClientProcesses, DataFor, cpu_per_instance, data_for, persisted_instance, thread_rate
from engine.bench_floors import postgres_floor, sqlite_floor
from engine.bench_growth import GROWTH_HEADLINE, measure_growth
from engine.core import bundle
from engine.core.db.database import make_sql_engine
from engine.core.db.models import NO_DUE_DATE, Base, ProcessInstance
from engine.core.users import save_user
from engine.facade import Engine

NO_DUE = NO_DUE_DATE.replace(tzinfo=None).isoformat(" ", "microseconds")

_TASK = """    <bpmn:userTask id="step_{n}" name="Step {n}">
      <bpmn:incoming>f{n}</bpmn:incoming><bpmn:outgoing>f{next}</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f{next}" sourceRef="step_{n}" targetRef="{target}" />
"""


def five_task_model(tasks: int = 5) -> dict[str, str]:
    """A sequential model with `tasks` user tasks: the issue's reference workload."""
    body = "".join(_TASK.format(n=n, next=n + 1, target=f"step_{n + 1}" if n < tasks else "end")
                   for n in range(1, tasks + 1))
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="bench" targetNamespace="x">
  <bpmn:process id="bench_five" name="Five user tasks" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="step_1" />
{body}    <bpmn:endEvent id="end"><bpmn:incoming>f{tasks + 1}</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
    return {"bench_five.bpmn": xml}




def raw_instance(files: dict[str, str], data_for: DataFor, serializer=None) -> Callable[[], None]:
    """One instance of plain SpiffWorkflow in memory, spec parsed once (the baseline); with a serializer, the
    state is also turned into JSON after the start and every step (what any engine storing it pays)."""
    model = bundle.build_model(files)

    def one() -> None:
        workflow = BpmnWorkflow(model.spec, model.subprocess_specs)
        workflow.do_engine_steps()
        if serializer is not None:
            serializer.dumps(workflow)
        while not workflow.is_completed():
            ready = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual]
            if not ready:
                break
            task = ready[0]
            task.data.update(data_for(task.task_spec.bpmn_id))
            task.run()
            workflow.do_engine_steps()
            if serializer is not None:
                serializer.dumps(workflow)
    return one


def _states_per_step(files: dict[str, str], data_for: DataFor) -> list[tuple[str, str | None]]:
    """(state JSON, next user task's element id) after the start and after each completion of one instance."""
    from engine.core.serializer import StateSerializer

    model = bundle.build_model(files)
    serializer = StateSerializer(check=False)
    workflow = BpmnWorkflow(model.spec, model.subprocess_specs)
    workflow.do_engine_steps()
    steps = []
    while True:
        ready = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual]
        steps.append((serializer.dumps(workflow), ready[0].task_spec.bpmn_id if ready else None))
        if not ready:
            return steps
        ready[0].data.update(data_for(ready[0].task_spec.bpmn_id))
        ready[0].run()
        workflow.do_engine_steps()


@contextmanager
def floor_instance(url: str, files: dict[str, str], data_for: DataFor):
    """Bare-driver writes of one instance's rows on a database of its own (`engine.bench_floors`): what the
    database alone costs, the model deployed there first so the rows are the engine's rows."""
    engine = _fresh_engine(url)
    engine.deploy_files(files, "bench_five", by="bench")
    with engine.sql_engine.connect() as conn:
        definition_id = conn.execute(text("SELECT max(id) FROM process_definition")).scalar_one()
    engine.sql_engine.dispose()
    steps = _states_per_step(files, data_for)
    if url.startswith("sqlite"):
        with sqlite_floor(engine.sql_engine.url.database, definition_id, steps) as one:
            yield one
    else:
        with postgres_floor(url, definition_id, steps) as one:
            yield one


def round_trips_of_instance(engine: Engine, key: str, data_for: DataFor, actor: str | None = None) -> dict[str, Any]:
    """Round trips to PostgreSQL of one instance - start, every task list, every completion - counted in libpq's
    protocol trace (engine/core/db/round_trips.py), after one instance to warm caches and connections."""
    from engine.core.db.round_trips import RoundTrips

    engine.sql_engine.dispose()  # every connection from here on is traced
    counter = RoundTrips(engine.sql_engine)
    try:
        persisted_instance(engine, key, data_for, actor)()
        counted: dict[str, list[int]] = {"start": [], "task_list": [], "completion": []}

        def timed(phase: str, call):
            counter.reset()
            result = call()
            counted[phase].append(counter.count())
            return result
        instance = timed("start", lambda: engine.start(key, {"customer_name": "Bench Ltd"}, by=actor))
        while open_tasks := timed("task_list", lambda: engine.tasks(instance_id=instance.id)):
            task = open_tasks[0]
            timed("completion", lambda task=task: engine.complete(task.id, data_for(task.element_id), by=actor))
    finally:
        counter.close()
    return {"round_trips_per_instance": sum(sum(v) for v in counted.values()),
            "round_trips": {"start": counted["start"][0], "task_list": max(counted["task_list"]),
                            "completion": max(counted["completion"])}}


CLIENTS = (1, 2, 4)


def interleaved(runners: dict[str, Callable[[], None]], count: int) -> dict[str, float]:
    """Instances/s of each runner, run one instance each in turn so that all see the machine at the same speed."""
    spent = dict.fromkeys(runners, 0.0)
    for _ in range(count):
        for name, one in runners.items():
            began = time.perf_counter()
            one()
            spent[name] += time.perf_counter() - began
    return {name: count / seconds for name, seconds in spent.items()}


def _bytes_per_instance(engine: Engine) -> int:
    with engine.read_session() as session:
        total, count = session.execute(select(func.sum(func.length(ProcessInstance.state)), func.count())
                                       .where(ProcessInstance.status == "completed",
                                              ProcessInstance.process_key == "bench_five")).one()
    return int(total / count) if count else 0


def _fresh_engine(url: str) -> Engine:
    sql = make_sql_engine(url)
    Base.metadata.create_all(sql)
    engine = Engine(sql)
    with engine.write_session.begin() as session:
        save_user(session, "bench", ["Admin"])
    return engine


@contextmanager
def scratch_postgres(url: str | None):
    """A PostgreSQL database of the benchmark's own, dropped afterwards (None when no URL is given)."""
    if not url:
        yield None
        return
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"clientflow_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def bench_engine(quick: bool = True, postgres_url: str | None = None,
                 progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Compare raw SpiffWorkflow with clientflow persisted on SQLite (and PostgreSQL when given).

    The machine's speed drifts (a shared VM may run at two thirds of its speed for seconds), so the runs
    interleave instance by instance - raw, raw + JSON, each backend, bare sqlite3 - and each is timed on its
    own; ratios are taken within a round and the medians of the rounds reported. The bare-sqlite3 run
    (`sqlite_floor_instance`) gives the best ratio any engine code could reach here: SpiffWorkflow's own time
    plus the database's alone."""
    from engine.core.serializer import StateSerializer

    files = five_task_model()
    count = 40 if quick else 200
    rounds = 3 if quick else 7
    results: dict[str, Any] = {"model": "5 sequential user tasks", "instances_per_round": count, "rounds": rounds}
    with tempfile.TemporaryDirectory() as folder, scratch_postgres(postgres_url) as pg_url, \
            scratch_postgres(postgres_url) as pg_floor_url, ExitStack() as floors:
        urls = {"sqlite": f"sqlite:///{Path(folder) / 'bench.db'}", "postgresql": pg_url}
        engines = {name: _fresh_engine(url) for name, url in urls.items() if url}
        runners = {"raw": raw_instance(files, data_for),
                   "raw_serialized": raw_instance(files, data_for, StateSerializer(check=False))}
        for name, engine in engines.items():
            engine.deploy_files(files, "bench_five", by="bench")
            runners[name] = persisted_instance(engine, "bench_five", data_for, actor="bench")
        floor_urls = {"sqlite": f"sqlite:///{Path(folder) / 'floor.db'}", "postgresql": pg_floor_url}
        for name in engines:
            runners[f"{name}_floor"] = floors.enter_context(floor_instance(floor_urls[name], files, data_for))
        interleaved(runners, 3)  # warm-up: caches, connections
        measured: dict[str, list[float]] = {name: [] for name in runners}
        for number in range(1, rounds + 1):
            progress(f"round {number} of {rounds}: {count} instances each of {', '.join(runners)}, interleaved")
            for name, rate in interleaved(runners, count).items():
                measured[name].append(rate)
        clients = {name: {n: [] for n in CLIENTS} for name in engines}
        processes = {name: {n: [] for n in CLIENTS} for name in engines}
        pools = {name: floors.enter_context(ClientProcesses(urls[name], "bench_five", "bench", max(CLIENTS)))
                 for name in engines}
        for number in range(1, rounds + 1):
            progress(f"clients round {number} of {rounds}: {', '.join(map(str, CLIENTS))} client threads, "
                     "then as many client processes")
            for name in engines:
                for n in CLIENTS:
                    clients[name][n].append(thread_rate(runners[name], n, max(4, count // 4)))
                for n in CLIENTS:
                    processes[name][n].append(pools[name].rate(n, max(4, count // 4)))
        for name, rates in measured.items():
            results[f"{name}_per_s"] = statistics.median(rates)
            if name != "raw":
                results[f"{name}_ratio"] = statistics.median(m / r for m, r in zip(rates, measured["raw"], strict=True))
        # A persisting engine spends at least SpiffWorkflow's time plus the database's (and, storing a state like
        # ours, the JSON's): the best ratio any engine code could reach on this machine.
        seen = list(zip(measured["raw"], measured["raw_serialized"], measured["sqlite_floor"], strict=True))
        results["sqlite_ceiling_ratio"] = statistics.median((1 / r) / (1 / r + 1 / f) for r, _, f in seen)
        results["sqlite_ceiling_with_json_ratio"] = statistics.median((1 / r) / (1 / j + 1 / f) for r, j, f in seen)
        for name, engine in engines.items():
            results[f"{name}_bytes_per_instance"] = _bytes_per_instance(engine)
            # One entry per database: its rate, and its ratios to raw and to its floor measured in the same rounds.
            results[name] = {"instances_per_s": results[f"{name}_per_s"], "ratio_to_raw": results[f"{name}_ratio"]}
            if f"{name}_floor" in measured:
                results[name]["ratio_to_floor"] = statistics.median(
                    e / f for e, f in zip(measured[name], measured[f"{name}_floor"], strict=True))
            rates = {str(n): statistics.median(r) for n, r in clients[name].items()}
            results[name]["clients"] = rates
            results[name]["clients_4_to_1"] = statistics.median(
                f / o for f, o in zip(clients[name][4], clients[name][1], strict=True))
            results[name]["client_processes"] = {str(n): statistics.median(r) for n, r in processes[name].items()}
            results[name]["processes_4_to_1"] = statistics.median(
                f / o for f, o in zip(processes[name][4], processes[name][1], strict=True))
            results[name]["cpu"] = cpu_per_instance(runners[name], count, server=name == "postgresql")
            if name == "postgresql":
                results[name].update(round_trips_of_instance(engine, "bench_five", data_for, actor="bench"))
        progress("growth: one looping instance per database, timed at 10 and at 1,000 finished tasks")
        growth = {name: measure_growth(engine, actor="bench") for name, engine in engines.items()}
        results["growth"] = {**{key: growth["sqlite"][key] for key in GROWTH_HEADLINE}, "by_database": growth}
        for engine in engines.values():
            engine.sql_engine.dispose()
    return results
