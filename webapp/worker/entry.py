"""The worker process: an RQ worker with RQ's scheduler enabled, plus the sweeper and the dispatcher.

This is the only module of the worker that touches Flask: it builds the `WorkerContext` (engine, Redis, settings,
mail links) from the app once and installs it, and every job takes what it needs from there.

`SimpleWorker` runs jobs in this process instead of forking one child per job: the engine's caches of parsed
models and live workflows then survive from one job to the next, which is what keeps a timer job at a few
milliseconds. A job that hangs is still stopped by RQ's job timeout (SIGALRM). RQ's scheduler runs in a process of
its own, which the kernel ends when this worker dies (`PR_SET_PDEATHSIG`), so `kill -9` leaves no orphan.
"""

from __future__ import annotations

import ctypes
import faulthandler
import logging
import os
import signal
import socket
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from uuid import uuid4

from engine.core.sandbox import FORK_LOCK
from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq import exceptions as rq_exceptions
from rq.scheduler import RQScheduler

from webapp import signing
from webapp.worker.context import WorkerContext, install
from webapp.worker.dispatcher import Dispatcher
from webapp.worker.jobs import fire_now, hold_or_reschedule
from webapp.worker.queues import QUEUES, TIMER_QUEUE, connect
from webapp.worker.retention import retention_days
from webapp.worker.scheduling import TIMER_JOB, TIMER_JOB_OPTIONS, Settings, alive_key, schedule_timers
from webapp.worker.sweeper import Sweeper

log = logging.getLogger(__name__)

# An idle worker wakes this often to run RQ's maintenance, which restarts a scheduler whose lock came free.
WORKER_TTL = 60
MAINTENANCE_INTERVAL = 60
_PR_SET_PDEATHSIG = 1

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


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask Linux to send `sig` to this process when its parent dies (no orphan keeps a lock or a queue)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, sig)
    except (OSError, AttributeError):
        log.debug("prctl(PR_SET_PDEATHSIG) unavailable", exc_info=True)


class _DyingScheduler(RQScheduler):
    """RQ's scheduler process, ended by the kernel when its worker dies: `kill -9` of a worker leaves no scheduler
    running on, holding the scheduler lock for its queues."""

    def start(self):
        # RQ forks its scheduler process without an exec: never while a sandbox process is being started
        # (engine/core/sandbox.py, FORK_LOCK), or that start waits for as long as the scheduler lives.
        with FORK_LOCK:
            return super().start()

    def work(self):
        parent = os.getppid()
        die_with_parent()
        if os.getppid() != parent:  # the worker died before the request took effect
            os._exit(0)
        return super().work()


class ClientflowWorker(SimpleWorker):
    """RQ's in-process worker whose scheduler process dies with it."""

    @property
    def scheduler(self) -> RQScheduler | None:
        return self._clientflow_scheduler

    @scheduler.setter
    def scheduler(self, value: RQScheduler | None) -> None:
        # RQ makes its scheduler inside `work()`; it becomes ours before it forks its process.
        if value is not None and type(value) is RQScheduler:
            value.__class__ = _DyingScheduler
        self._clientflow_scheduler = value


def _mail_links(app: Flask):
    """Signed portal links for mails, made with the web app's routes (the only Flask use of a job)."""
    def links(template: str, instance_id: int | None, payload: dict) -> dict[str, str]:
        with app.app_context():
            return signing.mail_links(template, instance_id, payload)
    return links


def build_context(app: Flask, redis: Redis, name: str) -> WorkerContext:
    """Everything the jobs of this worker need, taken from the app once."""
    config = app.config
    return WorkerContext(engine=app.extensions["clientflow"], redis=redis, settings=Settings.from_config(config),
                         name=name, mail_from=config["MAIL_FROM"], smtp_url=config.get("SMTP_URL") or None,
                         retention_days=retention_days(config), links=_mail_links(app))


@contextmanager
def job_context(app: Flask, redis: Redis, name: str | None = None) -> Iterator[WorkerContext]:
    """Run jobs of `app` in this process (tests, one-off scripts): installs a context, removes it after."""
    context = build_context(app, redis, name or _worker_name())
    previous = install(context)
    try:
        yield context
    finally:
        install(previous)


def _stacks_on_sigusr1() -> None:
    """`kill -USR1 <pid>` writes every thread's stack to the process's standard error (the worker's log): what a
    stuck worker is waiting on. Not where there is no real standard error (a worker run inside a test runner)."""
    try:
        faulthandler.register(signal.SIGUSR1, file=sys.__stderr__, all_threads=True)
    except (AttributeError, ValueError, OSError, RuntimeError) as err:  # no descriptor behind it
        log.info("no stack dumps on SIGUSR1: %s", err)


def _worker_name() -> str:
    return f"{socket.gethostname()}.{os.getpid()}.{uuid4().hex[:6]}"


def _dispatcher(context: WorkerContext) -> Dispatcher:
    def fire(timer_id: int) -> str:
        outcome = fire_now(context, timer_id)
        if outcome == "early":  # the engine's clock says not yet: hold it again
            due = context.engine.open_timer_due(timer_id)
            if due is not None:
                return hold_or_reschedule(context, timer_id, due)
        return outcome

    def fallback(timer_id: int) -> None:
        Queue(TIMER_QUEUE, connection=context.redis).enqueue(TIMER_JOB, timer_id, at_front=True, **TIMER_JOB_OPTIONS)

    return Dispatcher(context.engine.clock, fire, fallback)


def run_worker(app: Flask, redis_url: str, queue_names: Sequence[str] = QUEUES, *, burst: bool = False,
               name: str | None = None) -> bool:
    """Work the queues until stopped (SIGTERM/SIGINT finish the current job first) or, with `burst`, until empty."""
    name = name or _worker_name()
    _stacks_on_sigusr1()
    redis = connect(redis_url)
    release_dead_schedulers(redis, queue_names)
    context = build_context(app, redis, name)
    # RQ's blocking dequeue waits up to WORKER_TTL - 15 s, and RQ raises its pool's socket timeout to match, but only
    # for connections opened after that: one this client had already opened keeps redis-py's 5 s default, the BLPOP
    # times out on it and RQ backs off (up to a minute) without taking jobs. So RQ gets a client nothing has used.
    worker = ClientflowWorker(list(queue_names), connection=connect(redis_url), name=name, worker_ttl=WORKER_TTL,
                              maintenance_interval=MAINTENANCE_INTERVAL)

    def take_over_schedulers() -> None:
        if release_dead_schedulers(redis, queue_names) and worker.scheduler is not None:
            worker.scheduler.acquire_locks(auto_start=True)

    sweeper = Sweeper(context, release_schedulers=take_over_schedulers)
    dispatcher = _dispatcher(context)
    previous = install(context)
    try:
        if burst:
            sweeper.sweep_once(take_turn=False)
        else:
            sweeper.beat()
            sweeper.start()
            dispatcher.start()
            context.dispatcher = dispatcher
        return worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
    finally:
        sweeper.stop()
        context.dispatcher = None
        held = dispatcher.stop()
        if held:  # back to RQ's scheduler, rather than waiting for their leases to run out
            schedule_timers(redis, held, context.engine.clock.now(), context.settings, force=True,
                            lead=timedelta(0))
        try:
            redis.delete(alive_key(name))  # others need not wait out the heartbeat to know this worker is gone
        except RedisError:
            log.info("could not clear this worker's heartbeat; it runs out within a second")
        install(previous)
