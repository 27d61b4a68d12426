"""The sweeper: every few seconds, give a job to each due (or soon due) timer and notification that has none.

Redis is a delivery mechanism, the database is the truth: after a flushed Redis or a worker killed mid-job, the
sweeper finds the unfired timers and unsent rows and schedules them again, so work is delayed, never lost.
Every worker runs a sweeper thread; a short Redis lock lets one of them sweep per interval.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask
from redis import Redis

from webapp.worker import outbox
from webapp.worker.queues import get_redis
from webapp.worker.scheduling import Settings, schedule_notifications, schedule_timers

log = logging.getLogger(__name__)

SWEEP_LOCK = "clientflow:sweeper"
BATCH = 1000
HANDOFF_RETRY_SECONDS = 60


@dataclass(frozen=True)
class SweepResult:
    timers: int
    notifications: int


def sweep(engine, redis: Redis, settings: Settings) -> SweepResult:
    """Schedule every timer and notification due before the next sweep whose lease is free; returns the counts."""
    now = engine.clock.now()
    # Looking one interval (plus the timer lead) ahead lets a rescheduled timer still go out early enough to be on time.
    horizon = now + settings.timer_lead + timedelta(seconds=settings.sweep_interval + 1)
    timers = [(t.id, t.due_at) for t in engine.due_timers(horizon, limit=BATCH)]
    notifications = outbox.due_notifications(engine, horizon, limit=BATCH)
    return SweepResult(schedule_timers(redis, timers, now, settings),
                       schedule_notifications(redis, notifications, now, settings))


class Sweeper(threading.Thread):
    """Runs `sweep` every `settings.sweep_interval` seconds in the worker process, until stopped."""

    def __init__(self, app: Flask, name: str):
        super().__init__(name=f"clientflow-sweeper-{name}", daemon=True)
        self.app = app
        self.owner = name
        self.settings = Settings.from_config(app.config)
        self._stopped = threading.Event()
        self._next_handoff_retry = 0.0

    def run(self) -> None:
        while not self._stopped.is_set():
            self.sweep_once()
            self._stopped.wait(self.settings.sweep_interval)

    def stop(self) -> None:
        self._stopped.set()

    def sweep_once(self, *, take_turn: bool = True) -> SweepResult | None:
        """One sweep, if it is this worker's turn (or unconditionally with take_turn=False); errors are logged."""
        try:
            redis = get_redis(self.app)
            if take_turn and not redis.set(SWEEP_LOCK, self.owner, nx=True,
                                           px=max(100, int(self.settings.sweep_interval * 900))):
                return None
            result = sweep(self.app.extensions["clientflow"], redis, self.settings)
        except Exception:  # noqa: BLE001 - a sweeper that dies silently would be worse than one that logs and retries
            log.exception("sweep failed; trying again in %ss", self.settings.sweep_interval)
            return None
        if result.timers or result.notifications:
            log.info("sweeper scheduled %d timer(s) and %d notification(s)", result.timers, result.notifications)
        self._retry_handoffs()
        return result

    def _retry_handoffs(self) -> None:
        """Start processes whose hand-off failed before (engine/handoffs.py), at most once a minute.

        Retrying restores the waiting instances, so it runs far less often than the timer sweep."""
        if time.monotonic() < self._next_handoff_retry:
            return
        self._next_handoff_retry = time.monotonic() + HANDOFF_RETRY_SECONDS
        try:
            started = self.app.extensions["clientflow"].handoffs.retry_pending()
        except Exception:  # noqa: BLE001 - logged; the next minute tries again
            log.exception("hand-off retry failed")
            return
        if started:
            log.info("sweeper started %d handed-off process(es)", len(started))
