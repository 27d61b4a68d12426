"""The sweeper: give a job to each due (or soon due) timer, notification and asynchronous continuation that has
none, and keep this worker's heartbeat alive.

Redis is a delivery mechanism, the database is the truth: after a flushed Redis or a worker killed mid-job, the
sweeper finds the unfired timers and unsent rows and schedules them again, so work is delayed, never lost. Every
worker runs a sweeper thread; a short Redis lock lets one of them sweep per interval. Leases held by a worker whose
heartbeat is gone are taken over at once (webapp/worker/scheduling.py), so a killed worker's timers and in-flight
mails move to a live worker within seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.core.outbox import SENDING_HOLD
from redis import Redis
from rq import Queue

from webapp.worker.context import WorkerContext
from webapp.worker.queues import MAIL_QUEUE
from webapp.worker.scheduling import (
    HEARTBEAT_TTL_SECONDS,
    NOTIFICATION_JOB,
    NOTIFICATION_JOB_OPTIONS,
    Settings,
    heartbeat,
    schedule_continuations,
    schedule_notifications,
    schedule_timers,
    take_from_dead,
)

log = logging.getLogger(__name__)

SWEEP_LOCK = "clientflow:sweeper"
BATCH = 1000
HANDOFF_RETRY_SECONDS = 60
SCHEDULER_CHECK_SECONDS = 2
SLA_TICK_SECONDS = 60


@dataclass(frozen=True)
class SweepResult:
    timers: int
    notifications: int
    continuations: int = 0


def sweep(engine, redis: Redis, settings: Settings, holder: str = "sweeper",
          hold: Callable[[int, datetime], bool] | None = None) -> SweepResult:
    """Schedule every timer and notification due before the next sweep whose lease is free or held by a dead
    worker, and take over mails a dead worker was sending; returns the counts."""
    now = engine.clock.now()
    # Looking one interval (plus the timer lead) ahead lets a rescheduled timer still go out early enough to be on
    # time. They go straight onto the queue (the worker holds an early one until due), not through RQ's scheduler,
    # whose lock a killed worker's scheduler may still hold for a minute.
    ahead = settings.timer_lead + timedelta(seconds=settings.sweep_interval + 1)
    timers = [(t.id, t.due_at) for t in engine.due_timers(now + ahead, limit=BATCH)]
    scheduled_timers = schedule_timers(redis, timers, now, settings, lead=ahead, takeover=True, hold=hold,
                                       holder=holder)
    notifications = engine.due_notifications(now + ahead, limit=BATCH)
    scheduled_mails = schedule_notifications(redis, notifications, now, settings, takeover=True)
    orphans = take_from_dead(redis, "notification", engine.notifications_in_flight(limit=BATCH),
                             now + SENDING_HOLD + settings.lease, now, holder)
    queue = Queue(MAIL_QUEUE, connection=redis)
    for notification_id in orphans:
        queue.enqueue(NOTIFICATION_JOB, notification_id, takeover=True, **NOTIFICATION_JOB_OPTIONS)
    if orphans:
        log.warning("took over %d notification(s) a dead worker was sending", len(orphans))
    continued = schedule_continuations(redis, engine.camunda.due_continuations(BATCH), now, settings)
    return SweepResult(scheduled_timers, scheduled_mails + len(orphans), continued)


class Sweeper(threading.Thread):
    """Keeps this worker's heartbeat, and runs `sweep` every `settings.sweep_interval` seconds, until stopped."""

    def __init__(self, context: WorkerContext, *, release_schedulers: Callable[[], object] | None = None):
        super().__init__(name=f"clientflow-sweeper-{context.name}", daemon=True)
        self.context = context
        self.settings = context.settings
        self.release_schedulers = release_schedulers
        self._stopped = threading.Event()
        self._next_handoff_retry = 0.0
        self._next_scheduler_check = 0.0
        self._next_sla_tick = 0.0

    def run(self) -> None:
        beat = HEARTBEAT_TTL_SECONDS / 3
        next_sweep = 0.0
        while not self._stopped.is_set():
            self.beat()
            if time.monotonic() >= next_sweep:
                self.sweep_once()
                next_sweep = time.monotonic() + self.settings.sweep_interval
            self._stopped.wait(min(beat, max(0.0, next_sweep - time.monotonic())))

    def stop(self) -> None:
        self._stopped.set()

    def beat(self) -> None:
        try:
            heartbeat(self.context.redis, self.context.name)
        except Exception:  # noqa: BLE001 - Redis away: the sweep logs it; leases simply stay with their holders
            log.debug("heartbeat failed", exc_info=True)

    def sweep_once(self, *, take_turn: bool = True) -> SweepResult | None:
        """One sweep, if it is this worker's turn (or unconditionally with take_turn=False); errors are logged."""
        context = self.context
        try:
            if take_turn and not context.redis.set(SWEEP_LOCK, context.name, nx=True,
                                                   px=max(100, int(self.settings.sweep_interval * 900))):
                return None
            hold = context.dispatcher.hold if context.dispatcher is not None else None
            result = sweep(context.engine, context.redis, self.settings, holder=context.name, hold=hold)
        except Exception:  # noqa: BLE001 - a sweeper that dies silently would be worse than one that logs and retries
            log.exception("sweep failed; trying again in %ss", self.settings.sweep_interval)
            return None
        if result.timers or result.notifications or result.continuations:
            log.info("sweeper scheduled %d timer(s), %d notification(s) and %d asynchronous continuation(s)",
                     result.timers, result.notifications, result.continuations)
        self._check_schedulers()
        self._retry_handoffs()
        self._tick_slas()
        return result

    def _check_schedulers(self) -> None:
        """Free RQ scheduler locks of dead schedulers and take them over (retries and scheduled jobs go on)."""
        if self.release_schedulers is None or time.monotonic() < self._next_scheduler_check:
            return
        self._next_scheduler_check = time.monotonic() + SCHEDULER_CHECK_SECONDS
        try:
            self.release_schedulers()
        except Exception:  # noqa: BLE001 - logged; RQ's own lock expiry is the fallback
            log.exception("checking RQ's scheduler locks failed")

    def _tick_slas(self) -> None:
        """Record SLA breaches and ladder moves that fell due with no save of the case, once a minute."""
        if time.monotonic() < self._next_sla_tick:
            return
        self._next_sla_tick = time.monotonic() + SLA_TICK_SECONDS
        try:
            changed = self.context.engine.tick_slas()
        except Exception:  # noqa: BLE001 - logged; the next minute tries again
            log.exception("SLA tick failed")
            return
        if changed:
            log.info("sweeper brought %d SLA clock(s) up to date", changed)

    def _retry_handoffs(self) -> None:
        """Start processes whose hand-off failed before (engine/handoffs.py), at most once a minute.

        Retrying restores the waiting instances, so it runs far less often than the timer sweep."""
        if time.monotonic() < self._next_handoff_retry:
            return
        self._next_handoff_retry = time.monotonic() + HANDOFF_RETRY_SECONDS
        try:
            started = self.context.engine.handoffs.retry_pending()
        except Exception:  # noqa: BLE001 - logged; the next minute tries again
            log.exception("hand-off retry failed")
            return
        if started:
            log.info("sweeper started %d handed-off process(es)", len(started))
