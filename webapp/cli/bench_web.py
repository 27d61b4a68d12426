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

import http.client
import json
import os
import re
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from engine.bench import scratch_postgres
from engine.core.db.models import Event, HumanTask, InstanceFact, Notification, ProcessInstance, ReferenceCounter
from sqlalchemy import func, insert, select, text, update

BENCH_KEY = "bench_web"
AGENT, MANAGER, PASSWORD = "bench-agent", "bench-manager", "bench-password-1"
CATEGORIES = ("billing", "delivery", "service", "product_quality", "other")
BATCH = 5_000
BENCH_FORM = json.dumps({"title": "Review", "type": "object", "required": ["decision"], "properties": {
    "decision": {"type": "string", "title": "Decision", "enum": ["accept", "reject"]},
    "note": {"type": "string", "title": "Note", "maxLength": 500}}})
BENCH_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="bench_web_defs"
                  targetNamespace="http://clientflow.example/bench">
  <bpmn:collaboration id="bench_web_collaboration">
    <bpmn:participant id="bench_web_participant" name="Web benchmark" processRef="bench_web" />
  </bpmn:collaboration>
  <bpmn:process id="bench_web" name="Web benchmark" isExecutable="true">
    <bpmn:laneSet id="bench_web_lanes">
      <bpmn:lane id="lane_agent" name="Agent">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>tell_client</bpmn:flowNodeRef><bpmn:flowNodeRef>close</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="review" name="Review request">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="bench_review.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:scriptTask id="tell_client" name="Tell the client">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>notify("status_update", client_email, reference=reference, stage="reviewed",
       message=decision)</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="close" name="Close request">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="tell_client" />
    <bpmn:sequenceFlow id="f3" sourceRef="tell_client" targetRef="close" />
    <bpmn:sequenceFlow id="f4" sourceRef="close" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


@dataclass(frozen=True)
class Sizes:
    instances: int
    inbox_requests: int
    completions: int
    clients: int


QUICK = Sizes(instances=2_000, inbox_requests=60, completions=60, clients=4)
FULL = Sizes(instances=100_000, inbox_requests=600, completions=1_500, clients=8)
REPORT_REQUESTS = 5
SCALEOUT = ((1, 1), (2, 1), (4, 1), (1, 2), (2, 2), (4, 2))  # (gunicorn workers, RQ workers)
QUICK_SCALEOUT = ((1, 1), (2, 2))
QUICK_SCALEOUT_SIZES = Sizes(instances=1_000, inbox_requests=0, completions=40, clients=4)

Progress = Callable[[str], None]


# -- data -----------------------------------------------------------------------------------------------------------

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
MARK = "0000001"  # the number in a template case's client name and e-mail, replaced in every copy


class StateTemplate:
    """A template case's state cut at its task ids, reference and client number, to be re-joined per copy."""

    def __init__(self, state: str, reference: str):
        self.reference = reference
        self.reference_scope = reference.rsplit("-", 1)[0]
        pattern = re.compile(f"({_UUID}|{re.escape(reference)}|{MARK})")
        self.parts = pattern.split(state)  # text, token, text, token, ..., text
        self.uuids = sorted({p for p in self.parts[1::2] if re.fullmatch(_UUID, p)})

    def ids_for(self, number: int) -> dict[str, str]:
        """Fresh, unique task ids for copy `number` (valid version-4 UUID text)."""
        return {old: f"{number:08x}-{index:04x}-4000-8000-{number:012x}" for index, old in enumerate(self.uuids)}

    def render(self, number: int, ids: dict[str, str]) -> tuple[str, str]:
        """The state of copy `number` and its reference."""
        reference = f"{self.reference_scope}-{number:06d}"
        mapping = {**ids, self.reference: reference, MARK: f"{number:07d}"}
        parts = self.parts[:]
        parts[1::2] = [mapping[token] for token in parts[1::2]]
        return "".join(parts), reference


def _templates(app, count: int) -> list[tuple[int, StateTemplate]]:
    engine = app.extensions["clientflow"]
    ids = [engine.start(BENCH_KEY, {"client_name": f"Bench Client {MARK}", "client_email": f"client{MARK}@example.com",
                                    "category": category}, by=AGENT).id for category in CATEGORIES[:count]]
    with engine.sql_engine.connect() as conn:
        rows = conn.execute(select(ProcessInstance.id, ProcessInstance.state, ProcessInstance.reference)
                            .where(ProcessInstance.id.in_(ids))).all()
    return [(row.id, StateTemplate(row.state, row.reference)) for row in rows]


def seed(app, count: int, progress: Progress) -> int:
    """Deploy the bench model, start template cases, copy them to `count` cases in bulk; returns their number."""
    engine = app.extensions["clientflow"]
    from engine.core.users import save_user

    with engine.write_session.begin() as session:
        save_user(session, AGENT, ["Agent"], password=PASSWORD, email="bench-agent@example.com")
        save_user(session, MANAGER, ["Manager"], password=PASSWORD, email="bench-manager@example.com")
    engine.deploy_files({"bench_web.bpmn": BENCH_BPMN, "bench_review.json": BENCH_FORM}, BENCH_KEY, by=AGENT)
    templates = _templates(app, len(CATEGORIES))
    progress(f"copying {len(templates)} started cases to {count:,} cases")
    began = time.perf_counter()
    with engine.sql_engine.begin() as conn:
        first = conn.execute(select(func.max(ProcessInstance.id))).scalar() + 1
        base = {t_id: _template_rows(conn, t_id) for t_id, _ in templates}
        now = engine.clock.now()
        for offset in range(0, count, BATCH):
            batch = range(offset, min(count, offset + BATCH))
            _insert_batch(conn, templates, base, first, batch, now)
        scope = templates[0][1].reference_scope
        conn.execute(update(ReferenceCounter).where(ReferenceCounter.scope == scope)
                     .values(value=first + count))
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval(pg_get_serial_sequence('process_instance', 'id'), "
                              "(SELECT max(id) FROM process_instance))"))
    analyze(engine.sql_engine)
    progress(f"{count:,} cases copied in {time.perf_counter() - began:.1f} s")
    return count


def analyze(sql_engine) -> None:
    """Refresh the planner's statistics after a bulk load, as a database's routine maintenance would."""
    with sql_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


def _template_rows(conn, instance_id: int) -> dict[str, Any]:
    instance = conn.execute(select(ProcessInstance.__table__).where(ProcessInstance.id == instance_id)).one()
    tasks = conn.execute(select(HumanTask.__table__).where(HumanTask.instance_id == instance_id)).all()
    events = conn.execute(select(Event.__table__).where(Event.instance_id == instance_id)).all()
    facts = conn.execute(select(InstanceFact.__table__).where(InstanceFact.instance_id == instance_id)).all()
    return {"instance": dict(instance._mapping), "tasks": [dict(t._mapping) for t in tasks],
            "events": [dict(e._mapping) for e in events], "facts": [dict(f._mapping) for f in facts]}


def _insert_batch(conn, templates, base, first: int, numbers: range, now) -> None:
    """Insert copies number `numbers` (ids from `first`) of the template cases, table by table."""
    instances, tasks, events, facts = [], [], [], []
    for n in numbers:
        template_id, template = templates[n % len(templates)]
        rows, new_id = base[template_id], first + n
        started = now - timedelta(seconds=n * 61 % (90 * 86400))  # spread over the last 90 days
        ids = template.ids_for(new_id)
        state, reference = template.render(new_id, ids)
        instances.append({**rows["instance"], "id": new_id, "state": state, "reference": reference,
                          "label": f"Bench Client {new_id:07d}", "started_at": started, "updated_at": started})
        tasks += [{**t, "id": ids[t["id"]], "instance_id": new_id, "created_at": started} for t in rows["tasks"]]
        events += [{**{k: v for k, v in e.items() if k != "id"}, "instance_id": new_id, "at": started,
                    "detail": {**e["detail"], **({"reference": reference} if "reference" in e["detail"] else {})}}
                   for e in rows["events"]]
        facts += [{**f, "instance_id": new_id, "set_at": started} for f in rows["facts"]]
    for table, values in ((ProcessInstance, instances), (HumanTask, tasks), (Event, events), (InstanceFact, facts)):
        if values:
            conn.execute(insert(table), values)


# -- HTTP -----------------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browser:
    """One signed-in staff member over one keep-alive HTTP connection (cookies and the CSRF token kept)."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""
        self.token = ""

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urlencode({**form, "csrf_token": self.token})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # The server closed an idle keep-alive connection before this request reached it: send it again.
            self.connection.close()
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        page = response.read().decode("utf-8", "replace")
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        found = _TOKEN.search(page)
        if found:
            self.token = found.group(1)
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
        return response.status, page

    def sign_in(self, username: str = AGENT) -> Browser:
        self.request("GET", "/login")
        status, _ = self.request("POST", "/login", {"username": username, "password": PASSWORD})
        if status != 302:
            raise RuntimeError(f"the benchmark could not sign in (HTTP {status})")
        self.request("GET", "/inbox/")  # a page with the session's CSRF token
        return self

    def close(self) -> None:
        self.connection.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(env: dict[str, str], workers: int, threads: int, log) -> Iterator[int]:
    """`clientflow serve` on a free port until the block ends; yields the port."""
    import subprocess
    import sys

    from webapp.cli.serving import stop_process

    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "webapp", "serve", "--bind", f"127.0.0.1:{port}",
                                "--workers", str(workers), "--threads", str(threads)], env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        _wait_until_serving(port, process)
        yield port
    finally:
        stop_process(process, timeout=20)


def _wait_until_serving(port: int, process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited at start; see web.log in the scratch folder")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/login")
            if connection.getresponse().status == 200:
                connection.close()
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer in time; see web.log in the scratch folder")


def run_clients(browsers: list[Browser], work: list[list[Callable[[Browser], bool]]]) -> tuple[list[float], float,
                                                                                                 int, float]:
    """Each browser does its list of requests in its own thread.

    Returns the latencies (s), the elapsed time (s), the number of failed requests and when the load began
    (`time.perf_counter()`)."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()

    def client(browser: Browser, jobs: list) -> None:
        for job in jobs:
            began = time.perf_counter()
            ok = job(browser)
            took = time.perf_counter() - began
            with lock:
                latencies.append(took)
                failures[0] += 0 if ok else 1

    threads = [threading.Thread(target=client, args=(b, jobs)) for b, jobs in zip(browsers, work, strict=True)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - began, failures[0], began


def _spread(latencies: list[float]) -> dict[str, float]:
    millis = sorted(s * 1000 for s in latencies)
    if not millis:
        return {}
    cuts = statistics.quantiles(millis, n=100, method="inclusive") if len(millis) > 1 else [millis[0]] * 99
    return {"p50_ms": round(cuts[49], 1), "p95_ms": round(cuts[94], 1), "max_ms": round(millis[-1], 1)}


def _split(items: list, parts: int) -> list[list]:
    return [items[i::parts] for i in range(parts)]


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
