"""SLA rows: reading and writing `sla_clock` and appending to `sla_event`, on the caller's connection."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, insert, select, true, update

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
    team: str | None = None  # set when the clock stops: the lane and user of the step that stopped it
    agent: str | None = None


def load(conn, instance_id: int, calendars: Mapping[str, BusinessCalendar],
         ladders: Mapping[str, Ladder]) -> dict[str, StoredClock]:
    """The instance's clocks by target name."""
    rows = conn.execute(select(CLOCK.c.id, CLOCK.c.clock, CLOCK.c.level, CLOCK.c.escalated, CLOCK.c.urgent,
                               CLOCK.c.team, CLOCK.c.agent).where(CLOCK.c.instance_id == instance_id)).all()
    result = {}
    for row in rows:
        clock = Clock.from_dict(row.clock, calendars, ladders)
        result[clock.target.name] = StoredClock(row.id, clock, row.level, row.escalated, row.urgent, row.team,
                                                row.agent)
    return result


def save(conn, instance_id: int, stored: StoredClock, now: datetime, policy_version: str) -> None:
    """Insert or update one clock row."""
    clock = stored.clock
    values = {"state": clock.state, "due_at": clock.due, "breached": clock.breach_recorded or clock.state == "breached",
              "level": stored.level, "escalated": stored.escalated, "urgent": stored.urgent,
              "paused_reason": clock.pauses[-1].reason if clock.state == PAUSED else None,
              "policy_version": policy_version, "clock": clock.to_dict(), "updated_at": now,
              "team": stored.team, "agent": stored.agent}
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


SLA_FILTERS = ("overdue", "breached", "escalated", "paused")


def instance_filter(kind: str, now: datetime, instance_id_column):
    """A where-clause: the instance in `instance_id_column` has a clock that is `kind` at `now`.

    overdue: a running clock past its due time; breached: a breach recorded (running or stopped late);
    escalated: the ladder moved past its first level; paused: a clock on hold."""
    condition = {"overdue": (CLOCK.c.state == RUNNING) & (CLOCK.c.due_at <= now),
                 "breached": CLOCK.c.breached == true(),
                 "escalated": (CLOCK.c.escalated == true()) & CLOCK.c.state.in_((RUNNING, PAUSED)),
                 "paused": CLOCK.c.state == PAUSED}[kind]
    return exists().where(CLOCK.c.instance_id == instance_id_column, condition)


def open_clock(instance_id_column):
    """A where-clause: the instance in `instance_id_column` has a running or paused clock (its SLA judges it)."""
    return exists().where(CLOCK.c.instance_id == instance_id_column, CLOCK.c.state.in_((RUNNING, PAUSED)))


def rows_of(conn, instance_ids: Iterable[int]) -> list:
    """The clock rows of several instances, in one query."""
    ids = sorted(set(instance_ids))
    if not ids:
        return []
    return conn.execute(select(CLOCK.c.instance_id, CLOCK.c.clock, CLOCK.c.level, CLOCK.c.escalated,
                               CLOCK.c.breached).where(CLOCK.c.instance_id.in_(ids)).order_by(CLOCK.c.id)).all()


def events_of(conn, instance_id: int) -> list:
    """An instance's SLA events, oldest first."""
    return conn.execute(select(EVENT).where(EVENT.c.instance_id == instance_id).order_by(EVENT.c.at, EVENT.c.id)).all()
