"""`clientflow bench --only sla`: business-time `due` per call, and the inbox with SLA columns at 100,000 open cases.

The inbox part seeds the web benchmark's cases (webapp/cli/bench/web_data.py), gives every open case a `resolve`
clock row written in bulk (running, a share of them past due and escalated, one in ten paused, on `za-office`),
writes the clocks' due times into the tasks' inbox order as a save would, and times one signed-in agent's
requests against gunicorn: the group inbox sorted by SLA due (each row's SLA cell) and the `?sla=overdue` filter.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from engine.bench import scratch_postgres
from engine.core.db.models import HumanTask, ProcessInstance
from engine.sla import parse_duration, shipped_calendars, start
from engine.sla.bench import bench_due
from engine.sla.models import SlaClock
from engine.sla.targets import Target
from sqlalchemy import bindparam, insert, select, update

from webapp.cli.bench.web import bench_site
from webapp.cli.bench.web_data import BATCH, analyze, seed
from webapp.cli.bench.web_http import Browser, _spread, gunicorn, run_clients

PAGES = {"inbox": "/inbox/?view=group", "overdue": "/inbox/?view=group&sla=overdue"}
TARGET_MS = 50.0


def _clock_rows(instances: list[tuple[int, Any]], now) -> list[dict[str, Any]]:
    """A `resolve` clock (P5D on za-office) per case, started over the last two weeks (so about half are past due);
    every tenth is paused."""
    target = Target("resolve", parse_duration("P5D"), shipped_calendars()["za-office"])
    rows = []
    for number, (instance_id, _started) in enumerate(instances):
        clock, _ = start(target, now - timedelta(minutes=number * 7919 % (14 * 24 * 60)))
        if number % 10 == 0:
            clock, _ = clock.pause(now, "waiting on client")
        overdue = clock.due is not None and clock.due <= now
        rows.append({"instance_id": instance_id, "target": "resolve", "state": clock.state, "due_at": clock.due,
                     "breached": overdue, "level": "supervisor" if overdue else "agent", "escalated": overdue,
                     "paused_reason": "waiting on client" if clock.due is None else None, "urgent": False,
                     "policy_version": "bench", "clock": clock.to_dict(), "updated_at": now})
    return rows


def seed_clocks(app, progress: Callable[[str], None]) -> int:
    """Clock rows for every running case, and the tasks' inbox order from them; returns how many."""
    engine = app.extensions["clientflow"]
    now = engine.clock.now()
    with engine.sql_engine.begin() as conn:
        instances = conn.execute(select(ProcessInstance.id, ProcessInstance.started_at)
                                 .where(ProcessInstance.status == "running").order_by(ProcessInstance.id)).all()
        rows = _clock_rows([(i.id, i.started_at) for i in instances], now)
        for offset in range(0, len(rows), BATCH):
            batch = rows[offset:offset + BATCH]
            conn.execute(insert(SlaClock), batch)
            conn.execute(update(HumanTask).where(HumanTask.instance_id == bindparam("case")).values(
                sort_due=bindparam("due")), [{"case": r["instance_id"], "due": r["due_at"]} for r in batch
                                             if r["due_at"] is not None])
    analyze(engine.sql_engine)
    progress(f"{len(rows):,} SLA clocks written")
    return len(rows)


def _page(path: str) -> Callable[[Browser], bool]:
    def get(browser: Browser) -> bool:
        status, page = browser.request("GET", path)
        return status == 200 and 'data-label="Due"' in page
    return get


def measure_pages(port: int, requests: int) -> dict[str, Any]:
    """p50/p95 of each SLA inbox page, one signed-in client, one request at a time."""
    browser = Browser(port).sign_in()
    try:
        result = {}
        for name, path in PAGES.items():
            _page(path)(browser)  # warm-up
            latencies, _elapsed, failures, _began = run_clients([browser], [[_page(path)] * requests])
            # The machine's 1-minute load average as the page's requests end: on a shared machine the p95 follows it.
            result[name] = {**_spread(latencies), "requests": requests, "failed": failures,
                            "load_1min": round(os.getloadavg()[0], 2)}
        return result
    finally:
        browser.close()


def bench_sla(quick: bool = True, postgres_url: str | None = None, redis_url: str | None = None,
              instances: int | None = None, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """`due` per call on za-office, and the SLA inbox's latency on SQLite and (when given) PostgreSQL."""
    calls = 10_000 if quick else 100_000
    results: dict[str, Any] = {"due": {"calls": calls, "us_per_call": round(bench_due(calls), 2),
                                       "calendar": "za-office"}}
    count = instances or (2_000 if quick else 100_000)
    requests = 20 if quick else 100
    results["inbox"] = inbox = {"open_cases": count, "requests": requests, "clients": 1, "target_p95_ms": TARGET_MS}
    with tempfile.TemporaryDirectory(prefix="clientflow-bench-sla-") as folder, scratch_postgres(postgres_url) as pg:
        for name, url in {"sqlite": f"sqlite:///{Path(folder) / 'sla.db'}", "postgresql": pg}.items():
            if not url:
                continue
            site = Path(folder) / name
            site.mkdir()
            with bench_site(site, url, redis_url) as (app, env), open(site / "web.log", "ab") as log:
                progress(f"sla inbox on {name}: seeding {count:,} open cases with SLA clocks")
                seed(app, count, progress)
                seed_clocks(app, progress)
                with gunicorn(env, max(2, os.cpu_count() or 2), 4, log) as port:
                    inbox[name] = measure_pages(port, requests)
    return results


def sla_table(result: dict[str, Any]) -> list[str]:
    due, inbox = result["due"], result["inbox"]
    lines = [f"SLA: due on {due['calendar']} {due['us_per_call']:.2f} µs per call ({due['calls']:,} random "
             f"(start, duration) pairs); inbox with SLA columns at {inbox['open_cases']:,} open cases, one client, "
             f"{inbox['requests']} requests per page (target p95 < {TARGET_MS:.0f} ms)"]
    for backend in ("sqlite", "postgresql"):
        if backend in inbox:
            lines.append(f"  {backend:<11}" + "  ".join(
                f"{page} p50 {figures['p50_ms']:.1f} ms p95 {figures['p95_ms']:.1f} ms "
                f"(load {figures['load_1min']:.1f})"
                for page, figures in inbox[backend].items()))
    return lines
