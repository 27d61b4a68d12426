"""Durations of SLA targets: ISO 8601 text, in business time or in calendar (wall) time."""

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Protocol

from .errors import DurationError

BUSINESS_PREFIX = "business:"
CALENDAR_PREFIX = "calendar:"

_ISO = re.compile(
    r"P(?:(?P<years>[\d.,]+)Y)?(?:(?P<months>[\d.,]+)M)?(?:(?P<weeks>[\d.,]+)W)?(?:(?P<days>[\d.,]+)D)?"
    r"(?:T(?:(?P<hours>[\d.,]+)H)?(?:(?P<minutes>[\d.,]+)M)?(?:(?P<seconds>[\d.,]+)S)?)?"
)


class HasBusinessDay(Protocol):
    business_day: timedelta


@dataclass(frozen=True)
class Duration:
    """A target length: whole days plus a time part, counted in business time or in calendar time."""

    time: timedelta = timedelta(0)
    days: int = 0
    business: bool = True

    def __post_init__(self):
        if self.time < timedelta(0) or self.days < 0:
            raise DurationError(f"a duration cannot be negative: {self.time} and {self.days} days")

    def length(self, calendar: HasBusinessDay) -> timedelta:
        """Total length: a business day is the calendar's `business_day`, a calendar day is 24 hours."""
        day = calendar.business_day if self.business else timedelta(days=1)
        return self.days * day + self.time

    def __add__(self, other: "Duration") -> "Duration":
        if not isinstance(other, Duration):
            return NotImplemented
        if other.business != self.business:
            raise DurationError("cannot add a business-time duration to a calendar-time duration")
        return Duration(self.time + other.time, self.days + other.days, self.business)

    def __str__(self) -> str:
        return ("" if self.business else CALENDAR_PREFIX) + format_iso(self.days, self.time)


def format_iso(days: int, time: timedelta) -> str:
    """ISO 8601 text for whole days plus a time part (`P1DT2H30M`, `PT0S`)."""
    micros = time // timedelta(microseconds=1)
    hours, micros = divmod(micros, 3_600_000_000)
    minutes, micros = divmod(micros, 60_000_000)
    seconds = Decimal(micros) / Decimal(1_000_000)
    text = "P" + (f"{days}D" if days else "")
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if seconds:
        clock += f"{seconds.normalize():f}S"
    if clock:
        text += "T" + clock
    return text if text != "P" else "PT0S"


def parse_duration(text: str) -> Duration:
    """Parse `PT8H` / `business:P5D` (business time) or `calendar:P2D` (calendar time)."""
    if isinstance(text, Duration):
        return text
    if not isinstance(text, str):
        raise DurationError(f"a duration must be ISO 8601 text such as 'PT8H', not {text!r}")
    return _parse(text)


@lru_cache(maxsize=1024)  # the same few targets are read back with every clock (an inbox page reads fifty)
def _parse(text: str) -> Duration:
    raw = text.strip()
    business = True
    if raw.startswith(CALENDAR_PREFIX):
        business, raw = False, raw[len(CALENDAR_PREFIX):].strip()
    elif raw.startswith(BUSINESS_PREFIX):
        raw = raw[len(BUSINESS_PREFIX):].strip()
    match = _ISO.fullmatch(raw.upper())
    if not match or raw.upper() in ("P", "PT") or raw.upper().endswith("T"):
        raise DurationError(f"{text!r} is not an ISO 8601 duration such as 'PT8H', 'P5D' or 'calendar:P2D'")
    parts = {}
    for key, value in match.groupdict().items():
        if value is None:
            continue
        try:
            parts[key] = Decimal(value.replace(",", "."))
        except InvalidOperation:
            raise DurationError(f"{text!r}: {value!r} is not a number") from None
    if parts.get("years") or parts.get("months"):
        # A month or a year has no fixed length, so a deadline in them could not be counted back by elapsed().
        raise DurationError(f"{text!r}: years and months have no fixed length; use days")
    if parts.get("weeks") and business:
        raise DurationError(f"{text!r}: a business week is ambiguous; use business days (P5D)")
    days = parts.get("days", Decimal(0)) + 7 * parts.get("weeks", Decimal(0))
    if days != days.to_integral_value():
        raise DurationError(f"{text!r}: use whole days and put the rest in hours (P1DT4H)")
    seconds = parts.get("hours", 0) * 3600 + parts.get("minutes", 0) * 60 + parts.get("seconds", 0)
    time = timedelta(microseconds=int(seconds * 1_000_000))
    return Duration(time=time, days=int(days), business=business)


def business_hours(hours: float) -> Duration:
    """A business-time duration of so many hours (client agreements are stored in hours)."""
    return Duration(time=timedelta(hours=hours))


def business_days(days: int) -> Duration:
    """A business-time duration of so many business days."""
    return Duration(days=days)
