"""What the client is told: when we will reply (from the case's running clocks), and whether the office is open."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from .calendar import BusinessCalendar, is_open, next_open
from .clocks import PAUSED, RUNNING
from .panel import panel

# The targets that promise the client something: a first reply, a next update, the outcome.
CLIENT_TARGETS = ("first_response", "next_update", "resolve")


@dataclass(frozen=True)
class ClientPromise:
    """`reply_by`: the earliest due time of a running client-facing clock (None when none runs);
    `waiting_on_client`: the clocks are paused until the client answers."""

    reply_by: datetime | None
    waiting_on_client: bool


@dataclass(frozen=True)
class OfficeHours:
    """The calendar at one instant: open or not, why it is closed today (a holiday or closure), next opening."""

    is_open: bool
    closed_for: str | None
    opens_at: datetime | None


def promise(conn, calendars: Mapping[str, BusinessCalendar], instance_id: int, now: datetime) -> ClientPromise:
    clocks = [c for c in panel(conn, calendars, instance_id, now).clocks if c.target in CLIENT_TARGETS]
    running = [c.due_at for c in clocks if c.state == RUNNING and c.due_at is not None]
    return ClientPromise(min(running) if running else None,
                         not running and any(c.state == PAUSED for c in clocks))


def office_hours(calendar: BusinessCalendar, now: datetime) -> OfficeHours:
    if is_open(calendar, now):
        return OfficeHours(True, None, None)
    local = now.astimezone(calendar.tzinfo)
    return OfficeHours(False, calendar.closure(local.date()), next_open(calendar, now).astimezone(calendar.tzinfo))
