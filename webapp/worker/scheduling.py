"""Putting timers and notifications on RQ: one job per item, guarded by a lease in Redis.

A lease (`clientflow:lease:timer:42`, expiring a little after the item is due) says "a job for this item is on its
way". The save listener and the sweeper only enqueue when they can take the lease, so a healthy system has one job
per item; when a job is lost (Redis flushed, worker killed mid-job) its lease runs out and the sweeper enqueues a new
one. A rare second job is harmless: firing and sending are idempotent on the database side.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from redis import Redis
from rq import Queue, Retry

from webapp.worker.queues import MAIL_QUEUE, TIMER_QUEUE, RedisUnavailable, get_redis

log = logging.getLogger(__name__)

# Jobs are named by import path so this module and webapp.jobs need not import each other.
TIMER_JOB = "webapp.worker.jobs.fire_timer"
NOTIFICATION_JOB = "webapp.worker.jobs.send_notification"
TIMER_JOB_OPTIONS = {"job_timeout": 120, "result_ttl": 300, "failure_ttl": 7 * 24 * 3600,
                     "retry": Retry(max=3, interval=[1, 5, 30])}
NOTIFICATION_JOB_OPTIONS = {"job_timeout": 180, "result_ttl": 300, "failure_ttl": 7 * 24 * 3600}

DEFAULT_LEASE_SECONDS = 10.0
# RQ's scheduler works in whole seconds; its job comes this much before the due time and the worker holds the timer
# for the last stretch (webapp/worker/dispatcher.py), so a timer fires on time to the millisecond, not the second.
DEFAULT_TIMER_LEAD_SECONDS = 2.0
DEFAULT_MAIL_RETRY_INTERVALS = (10, 60, 300, 1800, 7200)
# After Redis refused once, saves skip scheduling for a while instead of each waiting for a timeout.
REDIS_DOWN_PAUSE = 10.0


@dataclass(frozen=True)
class Settings:
    """The scheduling knobs of one app (from its config)."""

    lease: timedelta = timedelta(seconds=DEFAULT_LEASE_SECONDS)
    timer_lead: timedelta = timedelta(seconds=DEFAULT_TIMER_LEAD_SECONDS)
    mail_retry_intervals: tuple[int, ...] = DEFAULT_MAIL_RETRY_INTERVALS
    sweep_interval: float = 2.0

    @classmethod
    def from_config(cls, config) -> Settings:
        intervals = config.get("MAIL_RETRY_INTERVALS") or DEFAULT_MAIL_RETRY_INTERVALS
        lead = config.get("TIMER_LEAD_SECONDS")
        return cls(lease=timedelta(seconds=float(config.get("JOB_LEASE_SECONDS") or DEFAULT_LEASE_SECONDS)),
                   timer_lead=timedelta(seconds=float(DEFAULT_TIMER_LEAD_SECONDS if lead is None else lead)),
                   mail_retry_intervals=tuple(int(i) for i in intervals),
                   sweep_interval=float(config.get("SWEEP_INTERVAL") or 2.0))

    @property
    def max_mail_attempts(self) -> int:
        return len(self.mail_retry_intervals) + 1

    def mail_retry_delay(self, attempt: int) -> timedelta:
        """How long to wait after failed attempt number `attempt` (1-based)."""
        intervals = self.mail_retry_intervals
        return timedelta(seconds=intervals[min(attempt, len(intervals)) - 1])


def lease_key(kind: str, item_id: int) -> str:
    return f"clientflow:lease:{kind}:{item_id}"


def take_leases(redis: Redis, kind: str, items: Iterable[tuple[int, datetime]], now: datetime, *,
                force: bool = False) -> list[bool]:
    """Take (or with `force`, renew) the lease of each (id, held until) item in one round trip."""
    items = list(items)
    if not items:
        return []
    with redis.pipeline(transaction=False) as pipe:
        for item_id, until in items:
            millis = max(1000, math.ceil((until - now).total_seconds() * 1000))
            pipe.set(lease_key(kind, item_id), "1", px=millis, nx=not force)
        return [bool(answer) for answer in pipe.execute()]


def schedule_timers(redis: Redis, timers: Iterable[tuple[int, datetime]], now: datetime, settings: Settings, *,
                    force: bool = False, lead: timedelta | None = None) -> int:
    """Enqueue `fire_timer` for each (timer id, due) whose lease we get: `lead` (default: the settings') before
    its due time, or now if that has passed."""
    lead = settings.timer_lead if lead is None else lead
    timers = list(timers)
    queue = Queue(TIMER_QUEUE, connection=redis)
    taken = take_leases(redis, "timer", [(i, max(due, now) + settings.lease) for i, due in timers], now, force=force)
    count = 0
    for (timer_id, due), ours in zip(timers, taken, strict=True):
        if not ours:
            continue
        if due - lead <= now:
            queue.enqueue(TIMER_JOB, timer_id, **TIMER_JOB_OPTIONS)
        else:
            # Whole seconds, and up to one early on top of the lead: the job checks the due time itself.
            queue.enqueue_at(due - lead, TIMER_JOB, timer_id, **TIMER_JOB_OPTIONS)
        count += 1
    return count


def schedule_notifications(redis: Redis, notifications: Iterable[tuple[int, datetime | None]], now: datetime,
                           settings: Settings, *, force: bool = False) -> int:
    """Enqueue `send_notification` (with RQ retries and backoff) for each (id, not before) whose lease we get."""
    notifications = [(i, not_before or now) for i, not_before in notifications]
    queue = Queue(MAIL_QUEUE, connection=redis)
    taken = take_leases(redis, "notification", [(i, max(t, now) + settings.lease) for i, t in notifications], now,
                        force=force)
    retry = Retry(max=len(settings.mail_retry_intervals), interval=list(settings.mail_retry_intervals))
    count = 0
    for (notification_id, not_before), ours in zip(notifications, taken, strict=True):
        if not ours:
            continue
        if not_before <= now:
            queue.enqueue(NOTIFICATION_JOB, notification_id, retry=retry, **NOTIFICATION_JOB_OPTIONS)
        else:
            queue.enqueue_at(not_before, NOTIFICATION_JOB, notification_id, retry=retry, **NOTIFICATION_JOB_OPTIONS)
        count += 1
    return count


class SaveScheduler:
    """Engine save listener: a job for every new timer and notification; Redis trouble is logged, never raised.

    The change is committed before listeners run, so a failure here loses nothing: the sweeper finds the rows."""

    def __init__(self, app: Flask):
        self.app = app
        self.settings = Settings.from_config(app.config)
        self._paused_until = 0.0

    def __call__(self, results) -> None:
        timers = [timer for result in results for timer in result.new_timers]
        notifications = [n for result in results for n in result.new_notifications]
        if not timers and not notifications or time.monotonic() < self._paused_until:
            return
        try:
            redis = get_redis(self.app)
            now = self.app.extensions["clientflow"].clock.now()
            schedule_timers(redis, timers, now, self.settings)
            schedule_notifications(redis, [(n, now) for n in notifications], now, self.settings)
        except RedisUnavailable as err:
            self._paused_until = time.monotonic() + REDIS_DOWN_PAUSE
            log.info("not scheduling %d timer(s) and %d notification(s) now: %s; a worker's sweeper will pick them up",
                     len(timers), len(notifications), err)
        except Exception as err:  # noqa: BLE001 - the change is saved; scheduling must not turn it into an error
            self._paused_until = time.monotonic() + REDIS_DOWN_PAUSE
            log.warning("could not schedule %d timer(s) and %d notification(s) on Redis (%s: %s); "
                        "a worker's sweeper will pick them up", len(timers), len(notifications),
                        err.__class__.__name__, err)


def register_scheduling(app: Flask) -> None:
    """Schedule timers and notifications on RQ after each commit, when `SCHEDULE_JOBS` is on.

    Off by default under TESTING, so tests without a worker never touch Redis."""
    if app.config.get("SCHEDULE_JOBS", not app.testing):
        app.extensions["clientflow"].on_save(SaveScheduler(app))
