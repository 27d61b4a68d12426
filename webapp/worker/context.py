"""What every job is handed: the engine, Redis, the settings and the link maker, installed by the worker entry point.

RQ calls a job by its dotted name with only the ids it was enqueued with, so the objects a job works with cannot be
arguments. The entry point (webapp/worker/entry.py) builds one `WorkerContext` per worker process and installs it
before the first job; jobs call `current()`. Nothing here is made at import time, and no job touches Flask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine import Engine
    from redis import Redis

    from webapp.worker.dispatcher import Dispatcher
    from webapp.worker.scheduling import Settings

MailLinks = Callable[[str, "int | None", dict[str, Any]], dict[str, str]]


def _no_links(template: str, instance_id: int | None, payload: dict[str, Any]) -> dict[str, str]:
    return {}


@dataclass
class WorkerContext:
    """One worker process's engine, Redis client, settings and identity."""

    engine: Engine
    redis: Redis
    settings: Settings
    name: str  # this worker's name: the holder written into the leases it takes
    mail_from: str = "clientflow@localhost"
    smtp_url: str | None = None
    retention_days: int = 5 * 365
    links: MailLinks = _no_links  # signed portal links for a mail (made with the web app's routes)
    dispatcher: Dispatcher | None = field(default=None, repr=False)


_current: WorkerContext | None = None


def install(context: WorkerContext | None) -> WorkerContext | None:
    """Make `context` the one jobs of this process see; returns the one it replaces."""
    global _current
    previous, _current = _current, context
    return previous


def current() -> WorkerContext:
    """The context of the running worker; jobs run only inside one."""
    if _current is None:
        raise RuntimeError("no worker context: jobs run inside `clientflow worker` (webapp/worker/entry.py), "
                           "or inside `entry.job_context(app)` in tests and one-off scripts")
    return _current
