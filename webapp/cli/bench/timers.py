"""Timer benchmark: many timers due within the same few seconds, fired by real worker processes.

Reports lateness (fired_at - due_at) min / p50 / p99 / max and how many fired early (the goal: none, and p99 under
1.5 s). Runs in a scratch instance folder with its own SQLite database and embedded Redis unless given others;
a given database should be a scratch one (the benchmark's instances stay in it), and a given Redis must not be one
a live deployment's workers listen on.
"""

from __future__ import annotations

import math
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from engine.core.db.models import Event, Timer
from redis import Redis
from sqlalchemy import func, select

BENCH_KEY = "bench_timer"
BENCH_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs_bench_timer"
                  targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="bench_timer" name="Timer benchmark" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="at" name="At the given time">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition id="at_timer"><bpmn:timeDate>fire_at</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="at" />
    <bpmn:sequenceFlow id="f2" sourceRef="at" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""
CALIBRATION_STARTS = 10


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of sorted `values`."""
    return values[max(0, math.ceil(share * len(values)) - 1)]


def bench_timers(*, count: int = 1000, window: float = 10.0, workers: int = 2, quick: bool = False,
                 database_url: str | None = None, redis_url: str | None = None, seed: int = 5) -> dict[str, Any]:
    """Start `count` instances whose timers fall due at random moments of one `window`; let `workers` worker
    processes fire them; return lateness statistics. `quick`: 100 timers in 5 s (well under a minute)."""
    if quick:
        count, window = 100, 5.0
    with tempfile.TemporaryDirectory(prefix="clientflow-bench-timers-") as folder:
        return _run(Path(folder), count, window, workers, database_url, redis_url, random.Random(seed))


def _run(folder: Path, count: int, window: float, workers: int, database_url: str | None, redis_url: str | None,
         rng: random.Random) -> dict[str, Any]:
    from flask_migrate import upgrade

    from webapp import MIGRATIONS_DIR, create_app
    from webapp.cli.serving import start_worker, stop_process, worker_environment
    from webapp.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{folder / 'bench.db'}",
                      "INSTANCE_PATH": str(folder), "SECRET_KEY": "bench", "SCHEDULE_JOBS": True,
                      "REDIS_URL": redis_url})
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
    engine = app.extensions["clientflow"]
    (folder / f"{BENCH_KEY}.bpmn").write_text(BENCH_BPMN)
    engine.deploy(folder / f"{BENCH_KEY}.bpmn")
    env = worker_environment(app)
    log = open(folder / "workers.log", "ab")
    names = [f"bench-timers-{i + 1}" for i in range(workers)]
    processes = [start_worker(env, ["--name", name], output=log) for name in names]
    try:
        _wait_for_workers(Redis.from_url(env["REDIS_URL"]), names)
        # Every instance is started before the first timer is due: time a few starts (their timers are a day
        # away and not counted) to know how long starting them all takes.
        later = (engine.clock.now() + timedelta(days=1)).isoformat()
        started = time.perf_counter()
        for _ in range(CALIBRATION_STARTS):
            engine.start(BENCH_KEY, {"fire_at": later})
        per_start = (time.perf_counter() - started) / CALIBRATION_STARTS
        lead = 3 + count * per_start * 3  # starts slow down as the tables and the queues fill
        first_due = engine.clock.now() + timedelta(seconds=lead)
        offsets = sorted(rng.uniform(0, window) for _ in range(count))
        started = time.perf_counter()
        ids = [engine.start(BENCH_KEY, {"fire_at": (first_due + timedelta(seconds=o)).isoformat()}).id
               for o in offsets]
        created_in = time.perf_counter() - started
        overran = engine.clock.now() > first_due
        deadline = time.monotonic() + lead + window + 60
        while len(_fired(engine, ids)) < count and time.monotonic() < deadline:
            time.sleep(0.5)
        lateness = sorted(_fired(engine, ids))
        duplicates = _fired_events(engine, ids) - len(lateness)
    finally:
        for process in processes:
            stop_process(process)
        log.close()
        with app.app_context():
            db.engine.dispose()
    report = _report(count, window, workers, app.config["SQLALCHEMY_DATABASE_URI"], lateness, created_in, overran)
    return {**report, "fired_twice": duplicates}


def _wait_for_workers(redis: Redis, names: list[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not all(redis.exists(f"rq:worker:{name}") for name in names):
        if time.monotonic() > deadline:
            raise RuntimeError("the benchmark's workers did not start; see workers.log in the scratch folder")
        time.sleep(0.1)
    redis.close()


def _fired(engine, instance_ids: list[int]) -> list[float]:
    """Lateness in seconds of every fired timer of these instances (one query, not one per instance)."""
    with engine.read_session() as session:
        rows = session.execute(select(Timer.due_at, Timer.fired_at).where(
            Timer.instance_id.between(min(instance_ids), max(instance_ids)), Timer.fired_at.is_not(None)))
        return [(fired - due).total_seconds() for due, fired in rows]


def _fired_events(engine, instance_ids: list[int]) -> int:
    with engine.read_session() as session:
        return session.scalar(select(func.count()).select_from(Event).where(
            Event.kind == "timer_fired", Event.instance_id.between(min(instance_ids), max(instance_ids))))


def _report(count: int, window: float, workers: int, database_url: str, lateness: list[float], created_in: float,
            overran: bool) -> dict[str, Any]:
    millis = [round(s * 1000, 1) for s in lateness]
    stats = {"min": millis[0], "p50": percentile(millis, 0.5), "p99": percentile(millis, 0.99),
             "max": millis[-1], "mean": round(statistics.fmean(millis), 1)} if millis else {}
    return {"benchmark": "timers", "timers": count, "window_s": window, "workers": workers,
            "database": database_url.split(":", 1)[0].split("+", 1)[0], "fired": len(lateness),
            "early": sum(1 for s in lateness if s < 0), "lateness_ms": stats,
            "created_in_s": round(created_in, 2), "creation_overran_first_due": overran}
