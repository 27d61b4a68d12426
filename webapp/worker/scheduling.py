"""Putting timers and notifications on RQ: one job per item, guarded by a lease in Redis.

A lease (`clientflow:lease:timer:42`, expiring a little after the item is due) says "a job for this item is on its
way" and who holds it: `queued` while the job waits in RQ, then the name of the worker running it. The save listener
and the sweeper only enqueue when they can take the lease, so a healthy system has one job per item. Every worker
keeps a heartbeat key alive (`clientflow:alive:<name>`, a second or two); a lease whose holder's heartbeat is gone is
taken over by the sweeper at once, so a killed worker's timers and mails move to a live one within seconds instead
of waiting for the lease to run out. A lost job whose lease says `queued` (Redis flushed) is found when the lease
runs out. A rare second job is harmless: firing and sending are idempotent on the database side.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis import Redis
from rq import Queue, Retry

from webapp.worker.queues import MAIL_QUEUE, TIMER_QUEUE, RedisUnavailable

log = logging.getLogger(__name__)

# Jobs are named by import path so this module and webapp.jobs need not import each other.
TIMER_JOB = "webapp.worker.jobs.fire_timer"
NOTIFICATION_JOB = "webapp.worker.jobs.send_notification"
CONTINUATION_JOB = "webapp.worker.jobs.continue_async"
TIMER_JOB_OPTIONS = {"job_timeout": 120, "result_ttl": 300, "failure_ttl": 7 * 24 * 3600,
                     "retry": Retry(max=3, interval=[1, 5, 30])}
NOTIFICATION_JOB_OPTIONS = {"job_timeout": 180, "result_ttl": 300, "failure_ttl": 7 * 24 * 3600}
# Camunda's retries of a continuation are counted by the engine; RQ's retry only covers a lost race (ConcurrentUpdate).
CONTINUATION_JOB_OPTIONS = {"job_timeout": 120, "result_ttl": 300, "failure_ttl": 7 * 24 * 3600,
                            "retry": Retry(max=3, interval=[1, 5, 30])}

DEFAULT_LEASE_SECONDS = 10.0
# A worker's heartbeat key lives this long and is renewed three times as often (webapp/worker/sweeper.py).
HEARTBEAT_TTL_SECONDS = 1.0
QUEUED = "queued"  # the holder of a lease whose job waits in RQ
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
    sweep_interval: float = 0.5

    @classmethod
    def from_config(cls, config) -> Settings:
        intervals = config.get("MAIL_RETRY_INTERVALS") or DEFAULT_MAIL_RETRY_INTERVALS
        lead = config.get("TIMER_LEAD_SECONDS")
        return cls(lease=timedelta(seconds=float(config.get("JOB_LEASE_SECONDS") or DEFAULT_LEASE_SECONDS)),
                   timer_lead=timedelta(seconds=float(DEFAULT_TIMER_LEAD_SECONDS if lead is None else lead)),
                   mail_retry_intervals=tuple(int(i) for i in intervals),
                   sweep_interval=float(config.get("SWEEP_INTERVAL") or 0.5))

    @property
    def max_mail_attempts(self) -> int:
        return len(self.mail_retry_intervals) + 1

    def mail_retry_delay(self, attempt: int) -> timedelta:
        """How long to wait after failed attempt number `attempt` (1-based)."""
        intervals = self.mail_retry_intervals
        return timedelta(seconds=intervals[min(attempt, len(intervals)) - 1])


def lease_key(kind: str, item_id: int | str) -> str:
    return f"clientflow:lease:{kind}:{item_id}"


def alive_key(worker: str) -> str:
    return f"clientflow:alive:{worker}"


def heartbeat(redis: Redis, worker: str, ttl: float = HEARTBEAT_TTL_SECONDS) -> None:
    """Say this worker is alive for the next `ttl` seconds."""
    redis.set(alive_key(worker), "1", px=int(ttl * 1000))


# Take a lease that is free, or whose holder (a worker, not `queued`) has no heartbeat any more.
_TAKE_OVER = """
local holder = redis.call('GET', KEYS[1])
if holder and (holder == ARGV[3] or holder == 'queued' or redis.call('EXISTS', ARGV[4] .. holder) == 1) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


# Take a lease only from a worker that holds it and has no heartbeat any more.
_TAKE_FROM_DEAD = """
local holder = redis.call('GET', KEYS[1])
if (not holder) or holder == 'queued' or holder == ARGV[3] or redis.call('EXISTS', ARGV[4] .. holder) == 1 then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


def take_from_dead(redis: Redis, kind: str, item_ids: Iterable[int], until: datetime, now: datetime,
                   holder: str) -> list[int]:
    """The ids among `item_ids` whose lease a dead worker held, now held by `holder`."""
    item_ids = list(item_ids)
    if not item_ids:
        return []
    with redis.pipeline(transaction=False) as pipe:
        for item_id in item_ids:
            pipe.eval(_TAKE_FROM_DEAD, 1, lease_key(kind, item_id), holder, _millis(until, now), holder,
                      alive_key(""))
        return [item_id for item_id, taken in zip(item_ids, pipe.execute(), strict=True) if taken]


def _millis(until: datetime, now: datetime) -> int:
    return max(1000, math.ceil((until - now).total_seconds() * 1000))


def take_leases(redis: Redis, kind: str, items: Iterable[tuple[int, datetime]], now: datetime, *,
                force: bool = False, holder: str = QUEUED, takeover: bool = False) -> list[bool]:
    """Take (with `force`, renew) the lease of each (id, held until) item in one round trip; with `takeover`, also
    take leases whose holding worker is dead."""
    items = list(items)
    if not items:
        return []
    with redis.pipeline(transaction=False) as pipe:
        for item_id, until in items:
            if takeover and not force:
                pipe.eval(_TAKE_OVER, 1, lease_key(kind, item_id), holder, _millis(until, now), holder,
                          alive_key(""))
            else:
                pipe.set(lease_key(kind, item_id), holder, px=_millis(until, now), nx=not force)
        return [bool(answer) for answer in pipe.execute()]


def schedule_timers(redis: Redis, timers: Iterable[tuple[int, datetime]], now: datetime, settings: Settings, *,
                    force: bool = False, lead: timedelta | None = None, takeover: bool = False,
                    hold: Callable[[int, datetime], bool] | None = None, holder: str = QUEUED) -> int:
    """Enqueue `fire_timer` for each (timer id, due) whose lease we get: `lead` (default: the settings') before
    its due time, or now if that has passed. With `hold` (a worker's dispatcher), the timers are held by this worker
    instead, under a lease naming `holder`: a burst taken over from a dead worker then fires on the dispatcher's
    threads at once, rather than one queued job after another."""
    lead = settings.timer_lead if lead is None else lead
    timers = list(timers)
    queue = Queue(TIMER_QUEUE, connection=redis)
    taken = take_leases(redis, "timer", [(i, max(due, now) + settings.lease) for i, due in timers], now, force=force,
                        takeover=takeover, holder=holder if hold else QUEUED)
    count = 0
    for (timer_id, due), ours in zip(timers, taken, strict=True):
        if not ours:
            continue
        if hold is not None and hold(timer_id, due):
            count += 1
            continue
        if due - lead <= now:
            queue.enqueue(TIMER_JOB, timer_id, **TIMER_JOB_OPTIONS)
        else:
            # Whole seconds, and up to one early on top of the lead: the job checks the due time itself.
            queue.enqueue_at(due - lead, TIMER_JOB, timer_id, **TIMER_JOB_OPTIONS)
        count += 1
    return count


def schedule_notifications(redis: Redis, notifications: Iterable[tuple[int, datetime | None]], now: datetime,
                           settings: Settings, *, force: bool = False, takeover: bool = False) -> int:
    """Enqueue `send_notification` (with RQ retries and backoff) for each (id, not before) whose lease we get.

    With `takeover` the jobs may also take rows a dead worker was sending (`claim(..., takeover=True)`)."""
    notifications = [(i, not_before or now) for i, not_before in notifications]
    queue = Queue(MAIL_QUEUE, connection=redis)
    taken = take_leases(redis, "notification", [(i, max(t, now) + settings.lease) for i, t in notifications], now,
                        force=force, takeover=takeover)
    retry = Retry(max=len(settings.mail_retry_intervals), interval=list(settings.mail_retry_intervals))
    count = 0
    for (notification_id, not_before), ours in zip(notifications, taken, strict=True):
        if not ours:
            continue
        options = {"takeover": True} if takeover else {}
        if not_before <= now:
            queue.enqueue(NOTIFICATION_JOB, notification_id, retry=retry, **options, **NOTIFICATION_JOB_OPTIONS)
        else:
            queue.enqueue_at(not_before, NOTIFICATION_JOB, notification_id, retry=retry, **options,
                             **NOTIFICATION_JOB_OPTIONS)
        count += 1
    return count


def schedule_continuations(redis: Redis, task_ids: Iterable[str], now: datetime, settings: Settings) -> int:
    """Enqueue `continue_async` for each due asynchronous continuation (camunda:asyncBefore/After) whose lease we
    get (free, or held by a dead worker); the job gives its lease back when done, so a retry is not held up."""
    task_ids = list(task_ids)
    queue = Queue(TIMER_QUEUE, connection=redis)
    taken = take_leases(redis, "async", [(i, now + settings.lease) for i in task_ids], now, takeover=True)
    count = 0
    for task_id, ours in zip(task_ids, taken, strict=True):
        if ours:
            queue.enqueue(CONTINUATION_JOB, task_id, **CONTINUATION_JOB_OPTIONS)
            count += 1
    return count


class SaveScheduler:
    """Engine save listener: a job for every new timer and notification; Redis trouble is logged, never raised.

    The change is committed before listeners run, so a failure here loses nothing: the sweeper finds the rows."""

    def __init__(self, redis: Callable[[], Redis], clock, settings: Settings):
        self.redis = redis
        self.clock = clock
        self.settings = settings
        self._paused_until = 0.0

    def __call__(self, results) -> None:
        timers = [timer for result in results for timer in result.new_timers]
        notifications = [n for result in results for n in result.new_notifications]
        if not timers and not notifications or time.monotonic() < self._paused_until:
            return
        try:
            redis = self.redis()
            now = self.clock.now()
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
