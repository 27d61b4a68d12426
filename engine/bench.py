"""Engine benchmark: raw in-memory SpiffWorkflow vs clientflow persisted, on the same model in the same run."""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import create_engine, func, select, text

from . import bundle
from .database import make_sql_engine
from .models import NO_DUE_DATE, Base, ProcessInstance
from .runtime import Engine
from .users import save_user

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


def _task_data(task_index: int) -> dict[str, Any]:
    return {f"field_{task_index}": f"value {task_index}", "amount": task_index * 10}


def run_raw(files: dict[str, str], count: int, data_for: Callable[[str], dict]) -> float:
    """Instances/s of plain SpiffWorkflow in memory (spec parsed once, as a fair baseline)."""
    model = bundle.build_model(files)
    began = time.perf_counter()
    for _ in range(count):
        workflow = BpmnWorkflow(model.spec, model.subprocess_specs)
        workflow.do_engine_steps()
        while not workflow.is_completed():
            ready = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual]
            if not ready:
                break
            task = ready[0]
            task.data.update(data_for(task.task_spec.bpmn_id))
            task.run()
            workflow.do_engine_steps()
    return count / (time.perf_counter() - began)


def run_raw_serialized(files: dict[str, str], count: int, data_for: Callable[[str], dict]) -> float:
    """Raw SpiffWorkflow plus a JSON serialization after each step: the floor any persisting engine pays."""
    from .serializer import StateSerializer

    model = bundle.build_model(files)
    serializer = StateSerializer()
    began = time.perf_counter()
    for _ in range(count):
        workflow = BpmnWorkflow(model.spec, model.subprocess_specs)
        workflow.do_engine_steps()
        serializer.dumps(workflow)
        while not workflow.is_completed():
            ready = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual]
            if not ready:
                break
            ready[0].data.update(data_for(ready[0].task_spec.bpmn_id))
            ready[0].run()
            workflow.do_engine_steps()
            serializer.dumps(workflow)
    return count / (time.perf_counter() - began)


def run_persisted(engine: Engine, key: str, count: int, data_for: Callable[[str], dict],
                  actor: str | None = None) -> float:
    """Instances/s through the engine: start, then every user task completed, each its own transaction."""
    began = time.perf_counter()
    for _ in range(count):
        instance = engine.start(key, {"customer_name": "Bench Ltd"}, by=actor)
        while True:
            open_tasks = engine.tasks(instance_id=instance.id)
            if not open_tasks:
                break
            task = open_tasks[0]
            engine.complete(task.id, data_for(task.element_id), by=actor)
    return count / (time.perf_counter() - began)


def _states_per_step(files: dict[str, str], data_for: Callable[[str], dict]) -> list[tuple[str, str | None]]:
    """(state JSON, next user task's element id) after the start and after each completion of one instance."""
    from .serializer import StateSerializer

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


def run_sqlite_floor(engine: Engine, files: dict[str, str], count: int, data_for: Callable[[str], dict]) -> float:
    """Instances/s of bare `sqlite3` writing what a persisted instance writes, with no engine code at all.

    The same database and schema (indexes included) as the engine's run, and per step its own transaction: the
    state row (inserted, then updated under its lock version), the open task's row replaced, one audit event,
    the reference counter on start. What is left out: reading anything, building rows, SpiffWorkflow."""
    steps = _states_per_step(files, data_for)
    conn = sqlite3.connect(engine.sql_engine.url.database, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    definition_id = conn.execute("SELECT id FROM process_definition ORDER BY id DESC LIMIT 1").fetchone()[0]
    event = "INSERT INTO event (instance_id, at, actor, kind, element_id, task_id, detail) VALUES (?,?,?,?,?,?,?)"
    task = ("INSERT INTO human_task (id, instance_id, process_key, element_id, name, lane, form_key, ui_form_key,"
            " claimed_by, created_at, due_at, sort_due) VALUES (?,?,?,?,?,NULL,NULL,NULL,NULL,?,NULL,?)")
    try:
        began = time.perf_counter()
        for _ in range(count):
            now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
            conn.execute("BEGIN IMMEDIATE")
            number = conn.execute("INSERT INTO reference_counter (scope, value) VALUES ('FLOOR', 1) ON CONFLICT "
                                  "(scope) DO UPDATE SET value = value + 1 RETURNING value").fetchone()[0]
            instance_id = conn.execute(
                "INSERT INTO process_instance (definition_id, process_key, version, status, reference, label, "
                "started_by, started_at, updated_at, state, serializer_version, lock_version) "
                "VALUES (?, 'floor', 1, 'running', ?, 'Bench Ltd', 'bench', ?, ?, ?, '1.4', 1)",
                (definition_id, f"FLOOR-{number:08d}", now, now, steps[0][0])).lastrowid
            open_task = None
            for version, (state, element_id) in enumerate(steps, start=1):
                if version > 1:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute("UPDATE process_instance SET state = ?, lock_version = ?, updated_at = ? "
                                 "WHERE id = ? AND lock_version = ?", (state, version, now, instance_id, version - 1))
                    conn.execute("DELETE FROM human_task WHERE id = ?", (open_task,))
                if element_id is not None:
                    open_task = str(uuid.uuid4())
                    conn.execute(task, (open_task, instance_id, "floor", element_id, element_id, now, NO_DUE))
                else:
                    conn.execute("UPDATE process_instance SET status = 'completed', ended_at = ? WHERE id = ?",
                                 (now, instance_id))
                conn.execute(event, (instance_id, now, "bench", "task_completed", element_id, open_task,
                                     '{"fields": ["amount"]}'))
                conn.execute("COMMIT")
        return count / (time.perf_counter() - began)
    finally:
        conn.close()


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

    The machine's speed drifts (a shared VM may run at half speed for seconds), so the rounds interleave:
    each round measures raw, raw + JSON, every backend and bare sqlite3 back to back, a ratio is taken within
    each round, and the medians of the rounds are reported. The bare-sqlite3 run (`run_sqlite_floor`) gives the
    best ratio any engine code could reach here: SpiffWorkflow's own time plus the database's alone."""
    files = five_task_model()
    count = 40 if quick else 200
    rounds = 3 if quick else 7

    def data_for(element_id):
        return _task_data(int(element_id.rsplit("_", 1)[1]))
    results: dict[str, Any] = {"model": "5 sequential user tasks", "instances_per_round": count, "rounds": rounds,
                               "raw_instances_per_round": count * 4}
    with tempfile.TemporaryDirectory() as folder, scratch_postgres(postgres_url) as pg_url:
        urls = {"sqlite": f"sqlite:///{Path(folder) / 'bench.db'}", "postgresql": pg_url}
        engines = {}
        for name, url in urls.items():
            if url:
                engines[name] = engine = _fresh_engine(url)
                engine.deploy_files(files, "bench_five", by="bench")
                run_persisted(engine, "bench_five", 3, data_for, actor="bench")  # warm-up: caches, connections
        rates: dict[str, list[float]] = {name: [] for name in ("raw", "raw_serialized", *engines, "sqlite_floor")}
        for number in range(1, rounds + 1):
            progress(f"round {number} of {rounds}: raw, raw + JSON, {', '.join(engines)}, bare sqlite3 "
                     f"({count} instances each, raw {count * 4})")
            # Raw runs get more instances so that they last about as long as a persisted run: a shorter
            # measurement swings more with the machine's speed of the moment.
            rates["raw"].append(run_raw(files, count * 4, data_for))
            rates["raw_serialized"].append(run_raw_serialized(files, count * 2, data_for))
            for name, engine in engines.items():
                rates[name].append(run_persisted(engine, "bench_five", count, data_for, actor="bench"))
            rates["sqlite_floor"].append(run_sqlite_floor(engines["sqlite"], files, count, data_for))
        for name, measured in rates.items():
            results[f"{name}_per_s"] = statistics.median(measured)
            if name != "raw":
                results[f"{name}_ratio"] = statistics.median(m / r for m, r in zip(measured, rates["raw"], strict=True))
        # A persisting engine spends at least SpiffWorkflow's time plus the database's (and, storing a state like
        # ours, the JSON's): the best ratio any engine code could reach on this machine.
        rounds_seen = list(zip(rates["raw"], rates["raw_serialized"], rates["sqlite_floor"], strict=True))
        results["sqlite_ceiling_ratio"] = statistics.median((1 / r) / (1 / r + 1 / f) for r, _, f in rounds_seen)
        results["sqlite_ceiling_with_json_ratio"] = statistics.median(
            (1 / r) / (1 / j + 1 / f) for r, j, f in rounds_seen)
        for name, engine in engines.items():
            results[f"{name}_bytes_per_instance"] = _bytes_per_instance(engine)
            engine.sql_engine.dispose()
    return results
