"""The app's Redis: `REDIS_URL`, or the embedded server of its instance folder; and scheduling jobs on save.

The client is made on first use for one app (`get_redis`) and handed to whoever needs it; nothing connects at
import time. The worker gets its client from here once, in its entry point; jobs never look it up.
"""

from __future__ import annotations

import threading

from flask import Flask, current_app
from redis import Redis
from rq import Queue

from webapp.worker.queues import TIMER_QUEUE, EmbeddedRedis, RedisUnavailable, connect
from webapp.worker.scheduling import SaveScheduler, Settings

_REDIS = "clientflow_redis"
_EMBEDDED = "clientflow_embedded_redis"
_lock = threading.Lock()


def embedded(app: Flask) -> EmbeddedRedis:
    with _lock:
        return app.extensions.setdefault(_EMBEDDED, EmbeddedRedis(app.instance_path))


def redis_url(app: Flask, *, start: bool = False) -> str:
    """`REDIS_URL`, or the embedded server's URL (started first when `start` and not running yet)."""
    if app.config.get("REDIS_URL"):
        return app.config["REDIS_URL"]
    server = embedded(app)
    if start:
        server.start()
    elif not server.running():
        raise RedisUnavailable("REDIS_URL is unset and no embedded Redis runs for this instance folder "
                               "(`clientflow run`, `serve` or `worker` start one)")
    return server.url


def get_redis(app: Flask | None = None) -> Redis:
    """The app's Redis client, made on first use; commands time out so a dead Redis never hangs a request."""
    app = app or current_app._get_current_object()
    client = app.extensions.get(_REDIS)
    if client is None:
        client = app.extensions[_REDIS] = connect(redis_url(app), socket_timeout=5)
    return client


def get_queue(name: str = TIMER_QUEUE, app: Flask | None = None) -> Queue:
    return Queue(name, connection=get_redis(app))


def register_scheduling(app: Flask) -> None:
    """Schedule timers and notifications on RQ after each commit, when `SCHEDULE_JOBS` is on.

    Off by default under TESTING, so tests without a worker never touch Redis."""
    if app.config.get("SCHEDULE_JOBS", not app.testing):
        engine = app.extensions["clientflow"]
        app.extensions["clientflow"].on_save(SaveScheduler(lambda: get_redis(app), engine.clock,
                                                           Settings.from_config(app.config)))
