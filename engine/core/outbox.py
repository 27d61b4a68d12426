"""The notification outbox: scripts call `notify(...)`, rows are written in the same transaction as the state.

Sending is the workers' job (webapp/worker/jobs.py): rows first, mail second, so nothing is sent for a change that
was rolled back and nothing is lost when a worker dies.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.core.db.models import Notification
from engine.core.db.prepared import Prepared

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_pending: ContextVar[list[dict[str, Any]] | None] = ContextVar("clientflow_outbox", default=None)


@dataclass
class Outbox:
    """Collects the notifications scripts ask for while one unit of work runs."""

    items: list[dict[str, Any]] = field(default_factory=list)

    def __enter__(self) -> Outbox:
        self._token = _pending.set(self.items)
        return self

    def __exit__(self, *exc) -> None:
        _pending.reset(self._token)


def notify(template: str, to: str, **fields: Any) -> bool:
    """Script function: queue a notification from template `template` to address `to`.

    Returns False (and queues nothing) when `to` is empty, so models can notify optional contacts."""
    if not isinstance(template, str) or not re.fullmatch(r"[a-z0-9_]{1,80}", template):
        raise ValueError(f"notify: invalid template name {template!r}")
    if not to:
        return False
    if not isinstance(to, str) or not _EMAIL.match(to):
        raise ValueError(f"notify: {to!r} is not an e-mail address")
    items = _pending.get()
    if items is None:
        raise RuntimeError("notify() called outside a unit of work")
    items.append({"template": template, "recipient": to, "payload": fields})
    return True


_TABLE = Notification.__table__
_INSERT = Prepared(_TABLE.insert().returning(_TABLE.c.id), keys=[
    "instance_id", "template", "recipient", "payload", "status", "attempts", "next_try_at", "created_at"])


def write_rows(conn, instance_id: int, items: list[dict[str, Any]], now: datetime) -> list[int]:
    """Insert the outbox rows of one unit of work; returns their ids."""
    return [_INSERT.scalar(conn, {"instance_id": instance_id, "template": i["template"], "recipient": i["recipient"],
                                  "payload": i["payload"], "status": "pending", "attempts": 0, "next_try_at": now,
                                  "created_at": now})
            for i in items]
