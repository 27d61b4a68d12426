"""Timers on real RQ workers: on time, never early; early wake-ups put back; overdue timers found by the sweeper."""

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta

from click.testing import CliRunner
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from rq.scheduler import RQScheduler

from engine import ManualClock
from engine.core.sandbox import SandboxLimits, _Worker
from engine.core.sandbox_child import Policy
from tests.worker.fixtures import PATIENCE
from tests.worker.harness import wait_until
from webapp.cli.commands import main
from webapp.worker.dispatcher import Dispatcher
from webapp.worker.entry import _dispatcher, _DyingScheduler, job_context, release_dead_schedulers, run_worker
from webapp.worker.jobs import fire_timer
from webapp.worker.queues import QUEUES, TIMER_QUEUE
from webapp.worker.scheduling import Settings


def reminder(engine, delay="PT2S", hold=0):
    return engine.start("reminder", {"delay": delay, "reminders": 0, "hold": hold})


def test_pt2s_boundary_timer_fires_in_its_window_never_early(models, start_worker, app):
    engine = models
    start_worker()
    instance = reminder(engine, "PT2S")
    [timer] = engine.timers(instance.id)
    assert abs((timer.due_at - instance.started_at).total_seconds() - 2) < 0.01
    wait_until(lambda: engine.timers(instance.id)[0].fired_at, PATIENCE, what="the PT2S timer to fire")
    [timer] = engine.timers(instance.id)
    assert timer.fired_at >= timer.due_at
    assert (timer.fired_at - timer.due_at).total_seconds() < 1.5
    detail = engine.instance_detail(instance.id)
    assert "reminded" in detail.completed_elements
    assert [e.kind for e in detail.events].count("timer_fired") == 1
    assert detail.instance.status == "running"  # non-interrupting: the task still waits
    shown = CliRunner().invoke(main, ["show", str(instance.id)], obj=app, catch_exceptions=False).output
    assert timer.due_at.isoformat(timespec="seconds") in shown
    assert timer.fired_at.isoformat(timespec="seconds") in shown


def test_job_woken_early_puts_itself_back_for_the_due_time(models, app, redis_db):
    engine = models
    instance = reminder(engine, "PT30S")
    [timer] = engine.timers(instance.id)
    queue = Queue(TIMER_QUEUE, connection=redis_db.client)
    early = queue.enqueue("webapp.worker.jobs.fire_timer", timer.id)  # as if RQ's scheduler had run it early
    with job_context(app, redis_db.client):
        SimpleWorker([queue], connection=redis_db.client).work(burst=True)
    assert Job.fetch(early.id, connection=redis_db.client).return_value() == "rescheduled"
    assert engine.timers(instance.id)[0].fired_at is None
    scheduled = ScheduledJobRegistry(queue=queue)
    jobs = [Job.fetch(i, connection=redis_db.client) for i in scheduled.get_job_ids()]
    assert [j.args for j in jobs] == [(timer.id,), (timer.id,)]
    # The save's job comes the timer lead ahead; without a dispatcher to hold it, the early one goes back for
    # the due second itself.
    lead = Settings.from_config(app.config).timer_lead
    assert {int(scheduled.get_scheduled_time(j).timestamp()) for j in jobs} == {
        int((timer.due_at - lead).timestamp()), int(timer.due_at.timestamp())}


def test_worker_holds_an_early_timer_and_fires_it_at_its_due_time(models, app, redis_db):
    engine = models
    # Three seconds ahead: the job must come before the due time to be held, and on a loaded machine building the
    # job context and starting the dispatcher can take a good part of a second.
    instance = reminder(engine, "PT3S")
    [timer] = engine.timers(instance.id)
    with job_context(app, redis_db.client) as context:
        dispatcher = context.dispatcher = _dispatcher(context)
        dispatcher.start()
        try:
            assert fire_timer(timer.id) == "held"
            assert engine.timers(instance.id)[0].fired_at is None
            wait_until(lambda: engine.timers(instance.id)[0].fired_at, PATIENCE, interval=0.02,
                       what="the held timer to fire")
        finally:
            assert dispatcher.stop() == []
    [timer] = engine.timers(instance.id)
    assert timer.due_at <= timer.fired_at < timer.due_at + timedelta(milliseconds=250)


def test_a_stopping_worker_hands_back_the_timers_it_holds(app, redis_db):
    clock = ManualClock()
    dispatcher = Dispatcher(clock, fire=lambda timer_id: None, fallback=lambda timer_id: None)
    dispatcher.start()
    assert dispatcher.hold(7, clock.now() + timedelta(seconds=30))
    assert dispatcher.stop() == [(7, clock.now() + timedelta(seconds=30))]
    assert not dispatcher.hold(8, clock.now())


def test_burst_worker_sweeps_up_overdue_timers_never_scheduled(app_config, request, order_bundle):
    """Timers saved while Redis was unreachable (here: scheduling off) are found in the database and fired."""
    clock = app_config["CLOCK"] = ManualClock()
    app_config["SCHEDULE_JOBS"] = False
    app = request.getfixturevalue("app")
    engine = app.extensions["clientflow"]
    _users(engine)
    engine.deploy(order_bundle)
    instance = engine.start("order", {"customer_name": "ACME"}, by="alice")
    engine.complete(engine.tasks(instance_id=instance.id)[0].id, {"amount": 1500}, by="alice")
    [timer] = engine.timers(instance.id)
    assert timer.element_id == "review_reminder"
    clock.advance(hours=1, seconds=1)
    assert run_worker(app, app.config["REDIS_URL"], QUEUES, burst=True)
    [timer] = engine.timers(instance.id)
    assert timer.fired_at == clock.now() and timer.fired_at >= timer.due_at
    assert "remind_end" in engine.instance_detail(instance.id).completed_elements


def _users(engine):
    from engine.core.users import save_user

    with engine.write_session.begin() as session:
        save_user(session, "alice", ["Agent"])
        save_user(session, "carol", ["Reviewer"])


def test_saving_without_a_reachable_redis_still_saves(app_config, request, order_bundle, caplog):
    app_config["REDIS_URL"] = f"redis://127.0.0.1:{_closed_port()}/0"
    engine = request.getfixturevalue("engine")
    _users(engine)
    engine.deploy(order_bundle)
    instance = engine.start("order", {"customer_name": "ACME"}, by="alice")
    with caplog.at_level(logging.WARNING, logger="webapp.worker.scheduling"):
        engine.complete(engine.tasks(instance_id=instance.id)[0].id, {"amount": 1500}, by="alice")
    assert len(engine.timers(instance.id)) == 1
    assert "a worker's sweeper will pick them up" in caplog.text


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_lock_of_a_scheduler_that_died_on_this_host_is_freed(redis_db):
    client = redis_db.client
    ghost = RQScheduler([TIMER_QUEUE], connection=client, name="ghost")
    ghost.register_birth()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    client.hset(ghost.key, "pid", dead.pid)
    client.set(RQScheduler.get_locking_key(TIMER_QUEUE), "ghost")
    client.set(RQScheduler.get_locking_key("mail"), "alive")
    alive = RQScheduler(["mail"], connection=client, name="alive")
    alive.register_birth()
    assert alive.pid == os.getpid()
    assert release_dead_schedulers(client, QUEUES) == [TIMER_QUEUE]
    assert client.get(RQScheduler.get_locking_key(TIMER_QUEUE)) is None
    assert client.get(RQScheduler.get_locking_key("mail")) == b"alive"


def test_a_worker_sent_sigusr1_writes_every_threads_stack_and_carries_on(start_worker, redis_db):
    import signal

    worker = start_worker()
    wait_until(lambda: "Listening on" in worker.output(), PATIENCE, what="the worker to listen")
    os.kill(worker.pid, signal.SIGUSR1)
    wait_until(lambda: "Thread 0x" in worker.output(), PATIENCE, what="the stacks in the worker's log")
    stacks = worker.output()
    assert "dispatcher" in stacks and "sweeper" in stacks  # our threads, by their code's files
    assert worker.alive()


class _SleepingScheduler(_DyingScheduler):
    """RQ's scheduler process as the worker starts it (forked, no exec), doing nothing for a while."""

    def work(self):
        time.sleep(20)
        os._exit(0)


def test_a_sandbox_start_never_waits_for_a_scheduler_forked_meanwhile(redis_db):
    """A process forked without an exec while a sandbox process starts would keep the start's exec-report pipe
    open: the start, and every script of the worker behind it, waited as long as the scheduler lived (a worker
    taking over the scheduler fired no timer for minutes). The fork and the start now take turns."""
    schedulers, spawn_seconds = [], []

    def fork_schedulers() -> None:
        for _ in range(60):
            schedulers.append(_SleepingScheduler(["timers"], connection=redis_db.client).start())

    forking = threading.Thread(target=fork_schedulers)
    forking.start()
    try:
        while forking.is_alive() or len(spawn_seconds) < 20:
            began = time.monotonic()
            _Worker(SandboxLimits(), Policy()).stop()
            spawn_seconds.append(time.monotonic() - began)
    finally:
        forking.join()
        for process in schedulers:
            process.kill()
            process.join(5)
    assert max(spawn_seconds) < 10, f"a sandbox start waited {max(spawn_seconds):.1f} s for a forked scheduler"
