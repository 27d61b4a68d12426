"""The worker process: an RQ worker with RQ's scheduler enabled, plus the sweeper, inside the app's context.

`SimpleWorker` runs jobs in this process instead of forking one child per job: the engine's caches of parsed
models and live workflows then survive from one job to the next, which is what keeps a timer job at a few
milliseconds. A job that hangs is still stopped by RQ's job timeout (SIGALRM).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from datetime import timedelta
from uuid import uuid4

from flask import Flask
from redis import Redis
from rq import Queue, SimpleWorker
from rq import exceptions as rq_exceptions
from rq.scheduler import RQScheduler

from webapp.worker import jobs
from webapp.worker.dispatcher import EXTENSION, Dispatcher
from webapp.worker.queues import QUEUES, TIMER_QUEUE, connect, redis_url
from webapp.worker.scheduling import TIMER_JOB, TIMER_JOB_OPTIONS, Settings, schedule_timers
from webapp.worker.sweeper import Sweeper

log = logging.getLogger(__name__)

# An idle worker wakes this often to run RQ's maintenance, which restarts a scheduler whose lock came free.
WORKER_TTL = 60
MAINTENANCE_INTERVAL = 60

# RQ before 3.0 keeps no record of a running scheduler (and has no SchedulerNotFound): nothing to check then.
_NO_RECORD = getattr(rq_exceptions, "SchedulerNotFound", LookupError)

# Compare-and-delete: free a lock only if the dead scheduler still holds it.
_RELEASE_IF_HELD = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


def _process_alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def release_dead_schedulers(redis: Redis, queue_names: Sequence[str]) -> list[str]:
    """Free scheduler locks held by schedulers that died on this host (e.g. SIGKILL).

    RQ keeps such a lock for about a minute; until then no scheduler would move scheduled jobs to the queues.
    Returns the queue names whose lock was freed."""
    freed = []
    for name in queue_names:
        key = RQScheduler.get_locking_key(name)
        holder = redis.get(key)
        if not holder:
            continue
        holder = holder.decode() if isinstance(holder, bytes) else holder
        try:
            scheduler = RQScheduler.fetch(holder, redis)
        except (_NO_RECORD, AttributeError):
            continue  # it may be starting right now; its lock runs out on its own if not
        if scheduler.hostname == socket.gethostname() and scheduler.pid and not _process_alive(scheduler.pid):
            if redis.eval(_RELEASE_IF_HELD, 1, key, holder):
                freed.append(name)
    if freed:
        log.info("freed the scheduler lock of dead scheduler(s) for queue(s) %s", ", ".join(freed))
    return freed


def _dispatcher(app: Flask, redis: Redis) -> Dispatcher:
    def fire(timer_id: int) -> str:
        with app.app_context():
            return jobs.fire_timer(timer_id)

    def fallback(timer_id: int) -> None:
        Queue(TIMER_QUEUE, connection=redis).enqueue(TIMER_JOB, timer_id, at_front=True, **TIMER_JOB_OPTIONS)

    return Dispatcher(app.extensions["clientflow"].clock, fire, fallback)


def run_worker(app: Flask, queue_names: Sequence[str] = QUEUES, *, burst: bool = False,
               name: str | None = None) -> bool:
    """Work the queues until stopped (SIGTERM/SIGINT finish the current job first) or, with `burst`, until empty."""
    name = name or f"{socket.gethostname()}.{os.getpid()}.{uuid4().hex[:6]}"
    redis = connect(redis_url(app, start=True))
    release_dead_schedulers(redis, queue_names)
    engine = app.extensions["clientflow"]
    sweeper = Sweeper(app, name)
    dispatcher = _dispatcher(app, redis)
    with app.app_context():
        worker = SimpleWorker(list(queue_names), connection=redis, name=name, worker_ttl=WORKER_TTL,
                              maintenance_interval=MAINTENANCE_INTERVAL)
        if burst:
            sweeper.sweep_once(take_turn=False)
        else:
            sweeper.start()
            dispatcher.start()
            app.extensions[EXTENSION] = dispatcher
        try:
            return worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
        finally:
            sweeper.stop()
            app.extensions.pop(EXTENSION, None)
            held = dispatcher.stop()
            if held:  # back to RQ's scheduler, rather than waiting for their leases to run out
                schedule_timers(redis, held, engine.clock.now(), Settings.from_config(app.config), force=True,
                                lead=timedelta(0))
