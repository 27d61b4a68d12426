"""What a case's SLA looks like now: each clock seen at an instant, and the case's SLA event log (read-only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from . import store
from .calendar import BusinessCalendar
from .clocks import Clock
from .durations import format_iso
from .models import SlaClock

CLOCK = SlaClock.__table__


@dataclass(frozen=True)
class ClockView:
    """A target's clock at `now`: `used` and `remaining` are in the target's own time (business time)."""

    target: str
    state: str  # running, paused, met, breached
    due_at: datetime | None
    used: timedelta
    remaining: timedelta
    over_minutes: int
    overdue: bool  # past its target (a running clock, or one stopped late)
    duration: str
    calendar: str
    level: str | None
    escalated: bool
    paused_reason: str | None

    def as_dict(self) -> dict:
        return {"target": self.target, "state": self.state, "due_at": self.due_at, "used": format_iso(0, self.used),
                "used_minutes": int(self.used.total_seconds() // 60), "remaining": format_iso(0, self.remaining),
                "over_minutes": self.over_minutes, "overdue": self.overdue, "duration": self.duration,
                "calendar": self.calendar, "level": self.level, "escalated": self.escalated,
                "paused_reason": self.paused_reason}


@dataclass(frozen=True)
class SlaEventView:
    target: str
    kind: str
    at: datetime
    state: str
    due_at: datetime | None
    used_minutes: int
    over_minutes: int
    reason: str | None
    actor: str | None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class SlaPanel:
    clocks: list[ClockView]
    events: list[SlaEventView]

    def as_dict(self) -> dict:
        return {"clocks": [c.as_dict() for c in self.clocks], "events": [e.as_dict() for e in self.events]}


def panel(conn, calendars: Mapping[str, BusinessCalendar], instance_id: int, now: datetime) -> SlaPanel:
    """The instance's clocks (in target order) seen at `now`, and its SLA events oldest first."""
    rows = conn.execute(select(CLOCK.c.clock, CLOCK.c.level, CLOCK.c.escalated)
                        .where(CLOCK.c.instance_id == instance_id).order_by(CLOCK.c.id)).all()
    clocks = []
    for row in rows:
        clock = Clock.from_dict(row.clock, calendars)
        status = clock.status(now)
        clocks.append(ClockView(
            target=clock.target.name, state=clock.state, due_at=status.due, used=status.used,
            remaining=status.remaining, over_minutes=status.overdue_minutes, overdue=status.breached,
            duration=str(clock.target.duration), calendar=clock.target.calendar.name, level=row.level,
            escalated=row.escalated, paused_reason=status.paused_reason))
    events = [SlaEventView(e.target, e.kind, e.at, e.state, e.due_at, e.used_minutes, e.over_minutes, e.reason,
                           e.actor) for e in store.events_of(conn, instance_id)]
    return SlaPanel(clocks, events)


__all__ = ["ClockView", "SlaEventView", "SlaPanel", "panel"]
