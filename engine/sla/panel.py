"""What a case's SLA looks like now: each clock seen at an instant, and the case's SLA event log (read-only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import store
from .calendar import BusinessCalendar
from .clocks import BREACHED, PAUSED, RUNNING, Clock
from .durations import format_iso


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


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
        return {"target": self.target, "state": self.state, "due_at": _iso(self.due_at),
                "used": format_iso(0, self.used),
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
        return {**self.__dict__, "at": _iso(self.at), "due_at": _iso(self.due_at)}


@dataclass(frozen=True)
class SlaPanel:
    clocks: list[ClockView]
    events: list[SlaEventView]

    def as_dict(self) -> dict:
        return {"clocks": [c.as_dict() for c in self.clocks], "events": [e.as_dict() for e in self.events]}


@dataclass(frozen=True)
class SlaBadge:
    """A case's SLA in one inbox cell: minutes over its most overdue target, escalated, paused, and the next due
    time of a running clock with the business time left to it."""

    instance_id: int
    over_minutes: int = 0
    escalated: bool = False
    paused_reason: str | None = None
    due_at: datetime | None = None
    remaining: timedelta | None = None
    target: str | None = None

    @property
    def breached(self) -> bool:
        return self.over_minutes > 0

    @property
    def over_text(self) -> str:
        """"3 h", "45 min", "2 h 5 min": minutes over target in business time."""
        hours, minutes = divmod(self.over_minutes, 60)
        return " ".join(filter(None, (f"{hours} h" if hours else "", f"{minutes} min" if minutes else "")))


def badges(conn, calendars: Mapping[str, BusinessCalendar], instance_ids, now: datetime) -> dict[int, SlaBadge]:
    """Each listed instance's SLA badge, from one query over their clock rows (instances without clocks: none)."""
    grouped: dict[int, list] = {}
    for row in store.rows_of(conn, instance_ids):
        grouped.setdefault(row.instance_id, []).append(row)
    result = {}
    for instance_id, rows in grouped.items():
        over, escalated, paused, next_due = 0, False, None, None
        for row in rows:
            clock = Clock.from_dict(row.clock, calendars)
            if clock.state not in (RUNNING, PAUSED, BREACHED):
                continue
            status = clock.status(now)
            over = max(over, status.overdue_minutes if status.breached else 0)
            if clock.state == BREACHED:
                continue
            escalated = escalated or row.escalated
            if clock.state == PAUSED:
                paused = paused or status.paused_reason or "paused"
            elif not status.breached and (next_due is None or status.due < next_due[0]):
                next_due = (status.due, status.remaining, clock.target.name)
        due_at, remaining, target = next_due or (None, None, None)
        result[instance_id] = SlaBadge(instance_id, over, escalated, paused, due_at, remaining, target)
    return result


def panel(conn, calendars: Mapping[str, BusinessCalendar], instance_id: int, now: datetime) -> SlaPanel:
    """The instance's clocks (in target order) seen at `now`, and its SLA events oldest first."""
    clocks = []
    for row in store.rows_of(conn, [instance_id]):
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


__all__ = ["ClockView", "SlaBadge", "SlaEventView", "SlaPanel", "badges", "panel"]
