"""Web and scale-out benchmarks: real gunicorn processes over HTTP, on a database of many real, completable cases.

Data: a handful of cases of a small model (a form task, a notification, a second task) are started through the
engine; then their rows (`process_instance` with its state, `human_task`, `event`, `instance_fact`) are copied in
bulk with fresh ids, references and task ids, so every copy restores and completes like the original.

Web: inbox p50/p95 (group view, page 1, as an agent whose lane holds every open task) and task completions per
second (form POSTs), with several clients at once. Scale-out: the same completions with 1, 2 and 4 gunicorn workers
and 1 and 2 RQ workers on PostgreSQL + Redis; throughput counts completions and the notifications they caused,
sent by the RQ workers (SMTP unset: mails are logged, so no mail server's speed is measured).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from engine.bench import scratch_postgres
from engine.core.db.models import Event, HumanTask, Notification
from sqlalchemy import select

from webapp.cli.bench.web_data import (
    AGENT,
    FULL,
    MANAGER,
    QUICK,
    QUICK_SCALEOUT,
    QUICK_SCALEOUT_SIZES,
    REPORT_REQUESTS,
    SCALEOUT,
    Progress,
    Sizes,
    analyze,
    seed,
)
from webapp.cli.bench.web_http import Browser, _split, _spread, gunicorn, run_clients


def _inbox(browser: Browser) -> bool:
    status, page = browser.request("GET", "/inbox/?view=group")
    return status == 200 and "Review request" in page


def _completer(task_id: str) -> Callable[[Browser], bool]:
    def complete(browser: Browser) -> bool:
        status, _ = browser.request("POST", f"/tasks/{task_id}", {"decision": "accept", "note": "benchmark"})
        return status == 303
    return complete


def review_tasks(app, count: int) -> list[str]:
    """Open review tasks to complete, spread over the whole table."""
    with app.extensions["clientflow"].sql_engine.connect() as conn:
        ids = conn.execute(select(HumanTask.id).where(HumanTask.element_id == "review")
                           .order_by(HumanTask.instance_id.desc()).limit(count * 3)).scalars().all()
    return list(ids[::3][:count])


@dataclass
class Completions:
    """What one completion load did: its figures, the tasks it completed and when it began."""

    figures: dict[str, Any]
    tasks: list[str]
    began: float


def measure_completions(app, port: int, sizes: Sizes) -> Completions:
    browsers = [Browser(port).sign_in() for _ in range(sizes.clients)]
    try:
        tasks = review_tasks(app, sizes.completions)
        jobs = [[_completer(t) for t in part] for part in _split(tasks, sizes.clients)]
        latencies, elapsed, failures, began = run_clients(browsers, jobs)
    finally:
        for browser in browsers:
            browser.close()
    figures = {"completions": len(tasks), "clients": sizes.clients, "per_s": round(len(tasks) / elapsed, 1),
               "failed": failures, **_spread(latencies)}
    return Completions(figures, tasks, began)


def measure_inbox(port: int, sizes: Sizes) -> dict[str, Any]:
    """The group inbox, first one request at a time (the cost of one), then from every client at once."""
    browsers = [Browser(port).sign_in() for _ in range(sizes.clients)]
    try:
        _inbox(browsers[0])  # warm-up
        alone = max(5, sizes.inbox_requests // 10)
        single, _elapsed, single_failures, _began = run_clients(browsers[:1], [[_inbox] * alone])
        jobs = [[_inbox] * len(part) for part in _split(list(range(sizes.inbox_requests)), sizes.clients)]
        latencies, elapsed, failures, _began = run_clients(browsers, jobs)
    finally:
        for browser in browsers:
            browser.close()
    return {"requests": sizes.inbox_requests, "clients": sizes.clients,
            "per_s": round(sizes.inbox_requests / elapsed, 1), "failed": failures + single_failures,
            **_spread(latencies), "one_at_a_time": {"requests": alone, **_spread(single)}}


def seed_history(app, count: int, progress: Progress) -> None:
    """The shipped processes and `count` closed cases of theirs, for the reports (engine/reports/sample.py)."""
    from engine.reports.sample import write_history

    engine = app.extensions["clientflow"]
    engine.deploy_each(app.config["PROCESSES_DIR"], by=AGENT)
    began = time.perf_counter()
    with engine.sql_engine.begin() as conn:
        write_history(conn, count, engine.clock.now())
    analyze(engine.sql_engine)
    progress(f"{count:,} closed cases of the shipped processes written in {time.perf_counter() - began:.1f} s")


def measure_reports(app, port: int, requests: int) -> dict[str, Any]:
    """The managers' dashboard over the last 90 days, one request at a time."""
    today = app.extensions["clientflow"].clock.now().date()
    query = urlencode({"from": (today - timedelta(days=89)).isoformat(), "to": today.isoformat()})
    browser = Browser(port).sign_in(MANAGER)
    try:
        def dashboard(b: Browser) -> bool:
            status, page = b.request("GET", f"/reports/?{query}")
            return status == 200 and "SLA breach rate" in page
        dashboard(browser)  # warm-up
        latencies, _elapsed, failures, _began = run_clients([browser], [[dashboard] * requests])
    finally:
        browser.close()
    return {"requests": requests, "range_days": 90, "failed": failures, **_spread(latencies)}


# -- set-up ---------------------------------------------------------------------------------------------------------

@contextmanager
def bench_site(folder: Path, database_url: str, redis_url: str | None):
    """A migrated scratch app and the environment its server and worker processes share."""
    from flask_migrate import upgrade

    from webapp import MIGRATIONS_DIR, create_app
    from webapp.extensions import db
    from webapp.worker.queues import EmbeddedRedis

    with ExitStack() as stack:
        if redis_url is None:
            redis = EmbeddedRedis(folder)
            redis.start()
            stack.callback(redis.stop)
            redis_url = redis.url
        app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(folder), "SECRET_KEY": "bench",
                          "REDIS_URL": redis_url, "SCHEDULE_JOBS": False})
        with app.app_context():
            upgrade(directory=MIGRATIONS_DIR)
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
               "CLIENTFLOW_INSTANCE_PATH": str(folder), "SECRET_KEY": "bench"}
        env.pop("SMTP_URL", None)
        try:
            yield app, env
        finally:
            with app.app_context():
                db.engine.dispose()


def bench_web(quick: bool = True, postgres_url: str | None = None, redis_url: str | None = None,
              sizes: Sizes | None = None, progress: Progress = lambda _: None) -> dict[str, Any]:
    """Inbox latency and completion rate against gunicorn, on SQLite and (when given) PostgreSQL."""
    sizes = sizes or (QUICK if quick else FULL)
    workers = max(2, os.cpu_count() or 2)
    results: dict[str, Any] = {"instances": sizes.instances, "gunicorn_workers": workers, "threads": 4,
                               "clients": sizes.clients}
    with tempfile.TemporaryDirectory(prefix="clientflow-bench-web-") as folder, scratch_postgres(postgres_url) as pg:
        backends = {"sqlite": f"sqlite:///{Path(folder) / 'web.db'}", "postgresql": pg}
        for name, url in backends.items():
            if not url:
                continue
            site = Path(folder) / name
            site.mkdir()
            with bench_site(site, url, redis_url) as (app, env), open(site / "web.log", "ab") as log:
                progress(f"web on {name}: seeding {sizes.instances:,} open and {sizes.instances:,} closed cases")
                seed(app, sizes.instances, progress)
                seed_history(app, sizes.instances, progress)
                with gunicorn(env, workers, 4, log) as port:
                    progress(f"web on {name}: {sizes.inbox_requests} inbox requests, {sizes.completions} completions")
                    inbox = measure_inbox(port, sizes)
                    completions = measure_completions(app, port, sizes)
                    reports = measure_reports(app, port, REPORT_REQUESTS)
                results[name] = {"inbox": inbox, "complete": completions.figures, "reports": reports}
    return results


def _wait_for_rq(redis_url: str, names: list[str], timeout: float = 60) -> None:
    from redis import Redis

    redis = Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    while not all(redis.exists(f"rq:worker:{name}") for name in names):
        if time.monotonic() > deadline:
            raise RuntimeError("the benchmark's RQ workers did not start; see workers.log in the scratch folder")
        time.sleep(0.1)
    redis.close()


def _notification_delays(app, instance_ids: list[int]) -> list[float]:
    """Seconds from each notification of these cases being written to a worker having sent (or logged) it."""
    with app.extensions["clientflow"].sql_engine.connect() as conn:
        created = dict(conn.execute(select(Notification.id, Notification.created_at).where(
            Notification.instance_id.in_(instance_ids), Notification.status.in_(("sent", "logged")))).all())
        done = conn.execute(select(Event.at, Event.detail).where(
            Event.instance_id.in_(instance_ids), Event.kind.in_(("notification_sent", "notification_logged")))).all()
    return [(at - created[detail["notification_id"]]).total_seconds() for at, detail in done
            if detail.get("notification_id") in created]


def _drain(app, instance_ids: list[int], began: float, timeout: float = 300) -> float | None:
    """Seconds from `began` until every case has its notification out; None when that took over `timeout`."""
    while len(_notification_delays(app, instance_ids)) < len(instance_ids):
        if time.perf_counter() - began > timeout:
            return None
        time.sleep(0.05)
    return time.perf_counter() - began


def bench_scaleout(quick: bool = True, postgres_url: str | None = None, redis_url: str | None = None,
                   sizes: Sizes | None = None, configs=None, progress: Progress = lambda _: None) -> dict[str, Any]:
    """Completions (and the notifications they cause) per second as gunicorn and RQ workers are added."""
    if not postgres_url:
        return {"skipped": "scale-out needs PostgreSQL: pass --postgres or set CLIENTFLOW_BENCH_POSTGRES"}
    from webapp.cli.serving import start_worker, stop_process

    sizes = sizes or (QUICK_SCALEOUT_SIZES if quick else FULL)
    configs = configs or (QUICK_SCALEOUT if quick else SCALEOUT)
    runs = []
    with tempfile.TemporaryDirectory(prefix="clientflow-bench-scale-") as folder, scratch_postgres(postgres_url) as pg:
        with bench_site(Path(folder), pg, redis_url) as (app, env), open(Path(folder) / "web.log", "ab") as log:
            progress(f"scale-out: seeding {sizes.instances:,} cases on PostgreSQL")
            seed(app, sizes.instances, progress)
            for web_workers, rq_workers in configs:
                names = [f"bench-scale-{web_workers}-{rq_workers}-{n}" for n in range(rq_workers)]
                workers = [start_worker(env, ["--name", name], output=log) for name in names]
                try:
                    _wait_for_rq(env["REDIS_URL"], names)
                    with gunicorn(env, web_workers, 4, log) as port:
                        progress(f"scale-out: {web_workers} gunicorn x {rq_workers} RQ worker(s)")
                        run = measure_completions(app, port, sizes)
                        cases = _instances_of(app, run.tasks)
                        done = _drain(app, cases, run.began)
                finally:
                    for worker in workers:
                        stop_process(worker)
                delays = _spread(_notification_delays(app, cases))
                runs.append({"gunicorn_workers": web_workers, "rq_workers": rq_workers,
                             "completions_per_s": run.figures["per_s"], "p50_ms": run.figures.get("p50_ms"),
                             "p95_ms": run.figures.get("p95_ms"), "failed": run.figures["failed"],
                             "completed_and_notified_per_s": round(len(cases) / done, 1) if done else None,
                             "notification_delay_p50_ms": delays.get("p50_ms"),
                             "notification_delay_p95_ms": delays.get("p95_ms")})
    return {"instances": sizes.instances, "completions_per_run": sizes.completions, "clients": sizes.clients,
            "threads_per_gunicorn_worker": 4, "runs": runs}


def _instances_of(app, task_ids: list[str]) -> list[int]:
    # Completed tasks' rows are gone; their events still name the instance.
    with app.extensions["clientflow"].sql_engine.connect() as conn:
        return list(conn.execute(select(Event.instance_id).where(Event.kind == "task_completed",
                                                                 Event.task_id.in_(task_ids))).scalars())


# -- the `clientflow bench` parts -------------------------------------------------------------------------------------

def web_table(result: dict[str, Any]) -> list[str]:
    lines = [f"Web: gunicorn {result['gunicorn_workers']} workers x {result['threads']} threads, {result['clients']} "
             f"clients at once, {result['instances']:,} open cases (+ as many closed ones for the reports)"]
    for backend in ("sqlite", "postgresql"):
        if backend in result:
            inbox, done = result[backend]["inbox"], result[backend]["complete"]
            reports = result[backend]["reports"]
            failed = inbox["failed"] + done["failed"] + reports["failed"]
            lines.append(f"  {backend:<11} inbox alone p50 {inbox['one_at_a_time']['p50_ms']:.1f} ms, "
                         f"{inbox['clients']} at once p50 {inbox['p50_ms']:>7.1f} ms  p95 {inbox['p95_ms']:>7.1f} ms "
                         f"{inbox['per_s']:>7.1f} req/s | completions {done['per_s']:>6.1f}/s  p50 "
                         f"{done['p50_ms']:.1f} ms  p95 {done['p95_ms']:.1f} ms | reports dashboard p50 "
                         f"{reports['p50_ms']:.0f} ms | failed {failed}")
    return lines


def scaleout_table(result: dict[str, Any]) -> list[str]:
    if "skipped" in result:
        return [f"Scale-out: not measured ({result['skipped']})"]
    lines = [f"Scale-out on PostgreSQL + Redis: {result['completions_per_run']} completions by {result['clients']} "
             f"clients, {result['instances']:,} open cases",
             f"  {'gunicorn':>8} {'RQ':>3} {'completions/s':>14} {'p95 ms':>8} {'completed+notified/s':>21} "
             f"{'mail delay p50/p95 ms':>22}"]
    for run in result["runs"]:
        notified = run["completed_and_notified_per_s"]
        delays = f"{run['notification_delay_p50_ms']} / {run['notification_delay_p95_ms']}"
        lines.append(f"  {run['gunicorn_workers']:>8} {run['rq_workers']:>3} {run['completions_per_s']:>14.1f} "
                     f"{run['p95_ms'] or 0:>8.1f} {notified if notified is not None else 'timed out':>21} "
                     f"{delays:>22}")
    return lines


def run_parts(parts: set[str], quick: bool, postgres_url: str | None, redis_url: str | None,
              instances: int | None, echo: Callable[[str], None], progress: Progress) -> dict[str, Any]:
    """The web and scale-out parts of `clientflow bench` (quick: web on SQLite only, to stay near a minute)."""
    from dataclasses import replace

    def sized(default: Sizes) -> Sizes | None:
        return replace(default, instances=instances) if instances else None

    results: dict[str, Any] = {}
    if "web" in parts:
        results["web"] = bench_web(quick, None if quick else postgres_url, redis_url, sized(QUICK if quick else FULL),
                                   progress)
        echo("\n".join(web_table(results["web"])))
    if "scaleout" in parts:
        results["scaleout"] = bench_scaleout(quick, postgres_url, redis_url,
                                             sized(QUICK_SCALEOUT_SIZES if quick else FULL), progress=progress)
        echo("\n".join(scaleout_table(results["scaleout"])))
    return results
