"""Failover in seconds, with the production lease (10 s) and sweep interval (0.5 s), not the short test ones.

A worker killed with SIGKILL (the worker alone, not its process group: its RQ scheduler must die with it) leaves
its timers and its mail in flight to the surviving worker: each timer fires within 2 s of its due time, and the
mail goes out within 30 s (docs/operations.md, "Failover").
"""

import asyncio
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
from sqlalchemy import select, text

from engine.core.db.models import Notification
from tests.worker.harness import MailRecorder, SmtpServer, free_port, wait_until

pytestmark = pytest.mark.slow

PRODUCTION = {"CLIENTFLOW_JOB_LEASE_SECONDS": "10", "CLIENTFLOW_SWEEP_INTERVAL": "0.5"}
TIMERS = 30


def _kill_worker_only(worker) -> list[int]:
    """SIGKILL the worker process alone; returns the pids of its children (RQ's scheduler) at that moment."""
    children = [child.pid for child in psutil.Process(worker.pid).children(recursive=True)]
    os.kill(worker.pid, signal.SIGKILL)
    worker.process.wait(10)
    return children


def _gone(pids: list[int]) -> bool:
    return not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in pids)


def _leases(redis, engine, instances) -> str:
    """What Redis says about each unfired timer (for a failure message)."""
    lines = []
    for instance in instances:
        for timer in engine.timers(instance.id):
            if timer.fired_at is None:
                holder = redis.get(f"clientflow:lease:timer:{timer.id}")
                lines.append(f"timer {timer.id} due {timer.due_at:%H:%M:%S.%f}: lease {holder!r}")
    return "\n".join(lines)


def _database_waits(engine) -> str:
    """The database's sessions that are in a transaction or waiting (PostgreSQL), for a failure message."""
    if engine.sql_engine.dialect.name != "postgresql":
        return ""
    with engine.sql_engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT pid, state, wait_event_type, wait_event, now() - xact_start AS open_for, left(query, 120) "
            "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND (state <> 'idle' OR wait_event_type = 'Lock')")).all()
    return "database sessions in a transaction or waiting:\n" + "\n".join(map(str, rows))


def _stacks(worker) -> str:
    """Every thread's stack in a live worker (SIGUSR1, webapp/worker/entry.py), for a failure message."""
    if not worker.alive():
        return "the survivor is not running"
    before = len(worker.output())
    os.kill(worker.pid, signal.SIGUSR1)
    time.sleep(1)
    return "the survivor's threads:\n" + worker.output()[before:]


def test_a_killed_workers_timers_fire_within_two_seconds_of_due(models, start_worker, worker_env, redis_db):
    engine = models
    env = {**worker_env, **PRODUCTION}
    doomed = start_worker("doomed", env=env)
    survivor = start_worker("survivor", env=env)
    instances = [engine.start("reminder", {"delay": f"PT{4 + i % 3}S", "reminders": 0, "hold": 0})
                 for i in range(TIMERS)]
    time.sleep(2.5)  # the first jobs have come (two seconds early) and are held by the workers' dispatchers
    orphans = _kill_worker_only(doomed)
    assert orphans, "the worker should have had its RQ scheduler process as a child"
    wait_until(lambda: _gone(orphans), 30, interval=0.1, what="the killed worker's scheduler to end with it")

    def fired() -> bool:
        return all(engine.timers(i.id)[0].fired_at for i in instances)
    try:
        wait_until(fired, 30, interval=0.2, what="every timer to fire")
    except AssertionError as err:
        raise AssertionError(f"{err}\n{_leases(redis_db.client, engine, instances)}\n{_database_waits(engine)}\n"
                             f"{_stacks(survivor)}") from err
    late = sorted((t.fired_at - t.due_at).total_seconds() for i in instances for t in engine.timers(i.id))
    assert late[0] >= 0, "a timer fired before its due time"
    assert late[-1] <= 2.0, f"latest timer {late[-1]:.2f} s after its due time (all: {late})"
    for instance in instances:
        assert [e.kind for e in engine.events(instance.id)].count("timer_fired") == 1


class StallingRecorder(MailRecorder):
    """Accepts mail, but the first message's DATA hangs: the worker sending it is killed mid-conversation."""

    def __init__(self):
        super().__init__()
        self.stalled = 0

    async def handle_DATA(self, server, session, envelope):
        if self.stalled == 0:
            self.stalled += 1
            await asyncio.sleep(120)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def stalling_smtp():
    server = SmtpServer()
    server.recorder = StallingRecorder()
    server.start()
    yield server
    server.stop()


def test_a_mail_in_flight_on_a_killed_worker_goes_out_within_thirty_seconds(models, start_worker, worker_env,
                                                                             stalling_smtp):
    engine = models
    env = {**worker_env, **PRODUCTION, "SMTP_URL": stalling_smtp.url.replace("timeout=5", "timeout=60")}
    doomed = start_worker("doomed", env=env)
    instance = engine.start("notice", {"template": "status_update", "email": "ana@example.com", "name": "Ana"})

    def status() -> str:
        with engine.read_session() as session:
            return session.scalar(select(Notification.status).where(Notification.instance_id == instance.id))
    wait_until(lambda: status() == "sending" and stalling_smtp.recorder.stalled, 15, interval=0.05,
               what="the doomed worker to be sending")
    start_worker("survivor", env=env)
    killed_at = time.monotonic()
    _kill_worker_only(doomed)
    wait_until(lambda: status() == "sent", 30, interval=0.2, what="the survivor to send the mail")
    took = time.monotonic() - killed_at
    assert took <= 30, f"the mail went out {took:.1f} s after the worker died"
    assert len(stalling_smtp.messages) == 1
    kinds = [e.kind for e in engine.events(instance.id)]
    assert kinds.count("notification_sent") == 1


def test_sigterm_to_run_stops_every_child(worker_env, tmp_path):
    port = free_port()
    env = {**worker_env, "CLIENTFLOW_INSTANCE_PATH": str(tmp_path / "instance")}
    env.pop("REDIS_URL")  # `run` starts its embedded Redis: that must stop too
    log = open(tmp_path / "run.log", "wb")
    run = subprocess.Popen([sys.executable, "-m", "webapp", "run", "--port", str(port)], env=env, stdout=log,
                           stderr=subprocess.STDOUT, start_new_session=True)
    try:
        parent = psutil.Process(run.pid)
        wait_until(lambda: len(parent.children(recursive=True)) >= 3, 30, interval=0.2,
                   what="`run` to start its worker, the worker's scheduler and the embedded Redis")
        children = [child.pid for child in parent.children(recursive=True)]
        run.send_signal(signal.SIGTERM)
        run.wait(30)
        wait_until(lambda: _gone(children), 15, interval=0.2, what="every child of `run` to stop")
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        log.close()
    assert run.returncode == 0, (tmp_path / "run.log").read_text()


def test_a_worker_whose_parent_is_killed_stops(worker_env, tmp_path):
    """`clientflow run` killed with SIGKILL: its worker notices and stops instead of running on unsupervised."""
    port = free_port()
    env = {**worker_env, "CLIENTFLOW_INSTANCE_PATH": str(tmp_path / "instance")}
    log = open(tmp_path / "run.log", "wb")
    run = subprocess.Popen([sys.executable, "-m", "webapp", "run", "--port", str(port)], env=env, stdout=log,
                           stderr=subprocess.STDOUT, start_new_session=True)
    try:
        parent = psutil.Process(run.pid)
        wait_until(lambda: any("worker" in " ".join(c.cmdline()) for c in parent.children()), 30, interval=0.2,
                   what="`run` to start its worker")
        children = [child.pid for child in parent.children(recursive=True)]
        os.kill(run.pid, signal.SIGKILL)
        run.wait(10)
        wait_until(lambda: _gone(children), 20, interval=0.2, what="the orphaned worker and scheduler to stop")
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        log.close()


