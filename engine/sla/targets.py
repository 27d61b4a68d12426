"""An SLA target: which clock (acknowledge, first response, next update, resolve), how long, on which calendar."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from .calendar import BusinessCalendar, due, elapsed
from .durations import Duration
from .ladders import Ladder

TARGET_NAMES = ("acknowledge", "first_response", "next_update", "resolve")


@dataclass(frozen=True)
class Target:
    """One target of a case: a duration counted on a calendar, with an optional escalation ladder."""

    name: str
    duration: Duration
    calendar: BusinessCalendar
    ladder: Ladder | None = None
    rule: str = ""

    @property
    def length(self) -> timedelta:
        """The target's length in its own time (business time unless the duration is calendar time)."""
        return self.duration.length(self.calendar)

    def advance(self, start: datetime, amount: timedelta) -> datetime:
        """The instant `amount` of this target's time after `start`."""
        return due(self.calendar, start, Duration(time=amount, business=self.duration.business))

    def measure(self, start: datetime, end: datetime) -> timedelta:
        """Time between two instants as this target counts it."""
        if self.duration.business:
            return elapsed(self.calendar, start, end)
        return end - start

    def describe(self) -> dict:
        """Plain JSON form (the calendar and the ladder by name)."""
        return {"name": self.name, "duration": str(self.duration), "calendar": self.calendar.name,
                "ladder": self.ladder.name if self.ladder else None, "rule": self.rule}
