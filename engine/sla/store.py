"""SLA rows: reading and writing `sla_clock` and appending to `sla_event`, on the caller's connection."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update

from .calendar import BusinessCalendar
from .clocks import PAUSED, RUNNING, Clock, ClockEvent
from .ladders import Ladder
from .models import SlaClock, SlaEvent

CLOCK = SlaClock.__table__
EVENT = SlaEvent.__table__


@dataclass
class StoredClock:
    """A clock row: the clock itself plus its ladder position (`level`) and flags."""

    id: int | None
    clock: Clock
    level: str | None = None
    escalated: bool = False
    urgent: bool = False


def load(conn, instance_id: int, calendars: Mapping[str, BusinessCalendar],
         ladders: Mapping[str, Ladder]) -> dict[str, StoredClock]:
    """The instance's clocks by target name."""
    rows = conn.execute(select(CLOCK.c.id, CLOCK.c.clock, CLOCK.c.level, CLOCK.c.escalated, CLOCK.c.urgent)
                        .where(CLOCK.c.instance_id == instance_id)).all()
    result = {}
    for row in rows:
        clock = Clock.from_dict(row.clock, calendars, ladders)
        result[clock.target.name] = StoredClock(row.id, clock, row.level, row.escalated, row.urgent)
    return result


def save(conn, instance_id: int, stored: StoredClock, now: datetime, policy_version: str) -> None:
    """Insert or update one clock row."""
    clock = stored.clock
    values = {"state": clock.state, "due_at": clock.due, "breached": clock.breach_recorded or clock.state == "breached",
              "level": stored.level, "escalated": stored.escalated, "urgent": stored.urgent,
              "paused_reason": clock.pauses[-1].reason if clock.state == PAUSED else None,
              "policy_version": policy_version, "clock": clock.to_dict(), "updated_at": now}
    if stored.id is None:
        stored.id = conn.execute(insert(CLOCK).values(instance_id=instance_id, target=clock.target.name, **values)
                                 .returning(CLOCK.c.id)).scalar_one()
    else:
        conn.execute(update(CLOCK).where(CLOCK.c.id == stored.id).values(**values))


def append(conn, instance_id: int, events: Iterable[ClockEvent], actor: str | None) -> None:
    """Append event rows to the SLA event log."""
    rows = [{"instance_id": instance_id, "target": e.target, "kind": e.kind, "at": e.at, "state": e.state,
             "due_at": e.due, "used_minutes": e.used_minutes, "over_minutes": e.over_minutes,
             "reason": (e.reason or "")[:255] or None, "actor": actor, "detail": dict(e.detail)} for e in events]
    if rows:
        conn.execute(insert(EVENT), rows)


def running_due_before(conn, when: datetime, limit: int = 500) -> list[int]:
    """Instances with a running clock due before `when` that has no breach recorded yet (the sweep's work)."""
    return list(conn.execute(select(CLOCK.c.instance_id).where(CLOCK.c.state == RUNNING, CLOCK.c.due_at <= when,
                                                               CLOCK.c.breached.is_(False))
                             .distinct().limit(limit)).scalars())


def open_due_before(conn, when: datetime, limit: int = 500) -> list[int]:
    """Instances with a running clock due by `when`: a breach to record or a ladder level that may have lapsed.

    Oldest-updated first, so clocks that just changed wait their turn behind the others."""
    rows = conn.execute(select(CLOCK.c.instance_id, CLOCK.c.updated_at).where(CLOCK.c.state == RUNNING,
                                                                             CLOCK.c.due_at <= when)
                        .order_by(CLOCK.c.updated_at).limit(limit)).all()
    return list(dict.fromkeys(row.instance_id for row in rows))


def events_of(conn, instance_id: int) -> list:
    """An instance's SLA events, oldest first."""
    return conn.execute(select(EVENT).where(EVENT.c.instance_id == instance_id).order_by(EVENT.c.at, EVENT.c.id)).all()
