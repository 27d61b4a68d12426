"""The append-only audit trail (`event` rows) of every instance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core.db.models import Event
from engine.core.db.prepared import Prepared


@dataclass(frozen=True)
class AuditEvent:
    id: int
    instance_id: int | None
    at: datetime
    actor: str | None
    kind: str
    element_id: str | None
    task_id: str | None
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "instance_id": self.instance_id, "at": self.at.isoformat(), "actor": self.actor,
                "kind": self.kind, "element_id": self.element_id, "task_id": self.task_id, "detail": self.detail}


def record(session: Session, kind: str, *, at: datetime, instance_id: int | None = None,
           actor: str | None = None, element_id: str | None = None, task_id: str | None = None,
           **detail: Any) -> None:
    """Append one event in the caller's transaction."""
    session.add(Event(instance_id=instance_id, at=at, actor=actor, kind=kind, element_id=element_id,
                      task_id=task_id, detail=detail))


_INSERT = Prepared(Event.__table__.insert(),
                   keys=["instance_id", "at", "actor", "kind", "element_id", "task_id", "detail"])


def insert(conn, events: list[dict[str, Any]]) -> None:
    """Append a unit of work's events with one statement."""
    _INSERT.execute_many(conn, events)


def events_of(session: Session, instance_id: int) -> list[AuditEvent]:
    rows = session.scalars(select(Event).where(Event.instance_id == instance_id).order_by(Event.id))
    return [AuditEvent(r.id, r.instance_id, r.at, r.actor, r.kind, r.element_id, r.task_id, r.detail or {})
            for r in rows]


def actors_who_completed(session: Session, instance_id: int, element_ids: list[str]) -> set[str]:
    """Users who completed any of these elements of the instance (for separation of duties)."""
    rows = session.scalars(select(Event.actor).where(
        Event.instance_id == instance_id, Event.kind == "task_completed", Event.element_id.in_(element_ids)))
    return {actor for actor in rows if actor}
