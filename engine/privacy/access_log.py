"""The access log: an append-only record of who viewed or exported personal data, when, what and why.

Rows are only ever inserted. The one exception is erasure (engine/privacy/erasure.py): an erased person's
values are replaced by a tombstone inside the free-text `why` column, so the log keeps every access without
keeping the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from engine.core.db.models import AccessLogEntry
from engine.errors import InvalidInput

ACTIONS = ("view_instance", "view_task", "view_client", "export", "search", "erasure")
CHANNELS = ("web", "api", "cli", "job")
MAX_WHY = 500

LOG = AccessLogEntry.__table__
_INSERT = insert(LOG)


@dataclass(frozen=True)
class Access:
    id: int
    at: datetime
    actor: str
    channel: str
    action: str
    instance_id: int | None
    task_id: str | None
    subjects: list[int]
    why: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.isoformat(), "actor": self.actor, "channel": self.channel,
                "action": self.action, "instance_id": self.instance_id, "task_id": self.task_id,
                "subjects": list(self.subjects), "why": self.why}


def record(conn: Connection, *, at: datetime, actor: str, channel: str, action: str,
           instance_id: int | None = None, task_id: str | None = None, subjects: list[int] | None = None,
           why: str = "") -> None:
    """Append one entry in the caller's transaction."""
    if action not in ACTIONS:
        raise InvalidInput(f"unknown access action {action!r} (one of {', '.join(ACTIONS)})")
    if channel not in CHANNELS:
        raise InvalidInput(f"unknown access channel {channel!r} (one of {', '.join(CHANNELS)})")
    conn.execute(_INSERT, {"at": at, "actor": actor, "channel": channel, "action": action,
                           "instance_id": instance_id, "task_id": task_id,
                           "subjects": sorted(set(subjects or ([instance_id] if instance_id else []))),
                           "why": (why or "").strip()[:MAX_WHY]})


def search(conn: Connection, *, actor: str | None = None, instance_ids: list[int] | None = None,
           action: str | None = None, since: datetime | None = None, until: datetime | None = None,
           limit: int = 100, offset: int = 0) -> list[Access]:
    """Entries newest first; `instance_ids` matches the viewed instance (exports match by instance too)."""
    stmt = select(LOG)
    if actor:
        stmt = stmt.where(LOG.c.actor == actor)
    if action:
        if action not in ACTIONS:
            raise InvalidInput(f"unknown access action {action!r} (one of {', '.join(ACTIONS)})")
        stmt = stmt.where(LOG.c.action == action)
    if since is not None:
        stmt = stmt.where(LOG.c.at >= since)
    if until is not None:
        stmt = stmt.where(LOG.c.at < until)
    if instance_ids is not None:
        return _of_instances(conn, stmt, instance_ids, limit, offset)
    stmt = stmt.order_by(LOG.c.at.desc(), LOG.c.id.desc()).limit(limit).offset(offset)
    return [_view(r) for r in conn.execute(stmt)]


def _of_instances(conn: Connection, stmt, instance_ids: list[int], limit: int, offset: int) -> list[Access]:
    # `subjects` is a JSON list, which SQLite and PostgreSQL query differently; the direct hits are found by
    # index and export/search rows (few) are matched here, so one query shape serves both backends.
    wanted = set(instance_ids)
    direct = stmt.where(LOG.c.instance_id.in_(wanted))
    bulk = stmt.where(LOG.c.instance_id.is_(None), LOG.c.action.in_(("export", "search", "erasure")))
    rows = [*conn.execute(direct), *(r for r in conn.execute(bulk) if wanted & set(r.subjects or ()))]
    rows.sort(key=lambda r: (r.at, r.id), reverse=True)
    return [_view(r) for r in rows[offset:offset + limit]]


def _view(row) -> Access:
    return Access(row.id, row.at, row.actor, row.channel, row.action, row.instance_id, row.task_id,
                  list(row.subjects or ()), row.why)
