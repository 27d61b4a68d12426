"""Business calendars and the pure time arithmetic on them: due dates, business time elapsed, opening hours."""

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from .durations import Duration
from .errors import CalendarError, NaiveDatetimeError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
ALWAYS = ((0, MINUTES_PER_DAY),)

# All arithmetic runs on integer microseconds since the Unix epoch (UTC): exact, fast, and immune to the
# rounding a float timestamp would bring to sub-second starts.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
# A calendar with at least one weekly interval opens within a week unless closed dates say otherwise; no
# realistic override list closes ten years in a row, so this bound only stops a runaway search.
_SEARCH_DAYS = 3660

Interval = tuple[int, int]


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours in one IANA zone: weekly intervals, public holidays, and dated overrides."""

    name: str
    zone: str
    week: tuple[tuple[Interval, ...], ...]
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    closed_dates: Mapping[date, str] = field(default_factory=dict)
    open_dates: Mapping[date, tuple[Interval, ...]] = field(default_factory=dict)
    business_day: timedelta | None = None
    description: str = ""
    _years: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self):
        try:
            tz = ZoneInfo(self.zone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise CalendarError(self.name, "zone", f"{self.zone!r} is not an IANA time zone") from None
        object.__setattr__(self, "tzinfo", tz)
        if len(self.week) != 7:
            raise CalendarError(self.name, "hours", f"needs 7 weekdays, got {len(self.week)}")
        week = tuple(_checked(self.name, f"hours.{WEEKDAYS[i]}", day) for i, day in enumerate(self.week))
        if not any(week):
            raise CalendarError(self.name, "hours", "no working interval on any weekday")
        object.__setattr__(self, "week", week)
        opened = {}
        for day, intervals in dict(self.open_dates).items():
            if day in self.closed_dates:
                raise CalendarError(self.name, f"open.{day}", "the date is also listed as closed")
            opened[day] = _checked(self.name, f"open.{day}", intervals)
            if not opened[day]:
                raise CalendarError(self.name, f"open.{day}", "an extra open date needs at least one interval")
        object.__setattr__(self, "open_dates", opened)
        closed = self.closed_dates if isinstance(self.closed_dates, Mapping) else dict.fromkeys(self.closed_dates, "")
        object.__setattr__(self, "closed_dates", dict(closed))
        if self.holiday_country is not None:
            _check_country(self.name, self.holiday_country, self.holiday_subdivision)
        if self.business_day is None:
            # A business day defaults to the longest regular working day (9 h for Mon-Fri 08:00-17:00).
            longest = max(sum(end - start for start, end in day) for day in week)
            object.__setattr__(self, "business_day", timedelta(minutes=longest))
        elif self.business_day <= timedelta(0):
            raise CalendarError(self.name, "business_day", "must be longer than zero")

    def holiday(self, day: date) -> str | None:
        """The public holiday's name on that local date, or None."""
        return self._year(day.year).holidays.get(day)

    def __hash__(self):
        return hash((self.name, self.zone, self.week, self.holiday_country))

    def closure(self, day: date) -> str | None:
        """Why that local date is closed: the closure's reason or the holiday's name; None when not closed so."""
        if day in self.closed_dates:
            return self.closed_dates[day] or "closed"
        if day in self.open_dates:
            return None
        return self.holiday(day)

    def intervals(self, day: date) -> tuple[Interval, ...]:
        """Opening intervals of a local date (minutes after midnight), after holidays and overrides."""
        return _regular(self, day, self._year(day.year).holidays)

    def _year(self, year: int) -> "_Year":
        table = self._years.get(year)
        if table is None:
            table = self._years[year] = _Year(self, year)
        return table


def _regular(calendar: BusinessCalendar, day: date, holiday_names: Mapping[date, str]) -> tuple[Interval, ...]:
    # Precedence, most specific first: a closed date, an extra open date, a public holiday, the weekday.
    if day in calendar.closed_dates:
        return ()
    if day in calendar.open_dates:
        return calendar.open_dates[day]
    if day in holiday_names:
        return ()
    return calendar.week[day.weekday()]


class _Year:
    """One year of a calendar as UTC microsecond intervals per day plus running totals (for bisecting)."""

    __slots__ = ("year", "first", "holidays", "days", "cumulative", "total")

    def __init__(self, calendar: BusinessCalendar, year: int):
        self.year = year
        self.first = date(year, 1, 1).toordinal()
        self.holidays = {}
        if calendar.holiday_country:
            found = holidays.country_holidays(calendar.holiday_country, subdiv=calendar.holiday_subdivision,
                                              years=year)
            self.holidays = {day: name for day, name in found.items() if day.year == year}
        self.days = []
        self.cumulative = [0]
        tz = calendar.tzinfo
        day = date(year, 1, 1)
        while day.year == year:
            spans = []
            for start, end in _regular(calendar, day, self.holidays):
                s, e = _instant(day, start, tz), _instant(day, end, tz)
                if e > s:  # a DST gap can swallow a short interval
                    spans.append((s, e))
            self.days.append(tuple(spans))
            self.cumulative.append(self.cumulative[-1] + sum(e - s for s, e in spans))
            day += timedelta(days=1)
        self.total = self.cumulative[-1]

    def position(self, index: int, t: int) -> int:
        """Business microseconds from the start of the year up to instant t on day `index`."""
        done = self.cumulative[index]
        for s, e in self.days[index]:
            if t <= s:
                break
            done += min(t, e) - s
        return done


def _instant(day: date, minute: int, tz: ZoneInfo) -> int:
    if minute == MINUTES_PER_DAY:
        local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    else:
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
    return (local - _EPOCH) // _US


def _checked(name: str, where: str, intervals: Iterable) -> tuple[Interval, ...]:
    result = []
    for item in intervals:
        try:
            start, end = (int(x) for x in item)
        except (TypeError, ValueError):
            raise CalendarError(name, where, f"{item!r} is not a (start, end) pair of minutes") from None
        if not 0 <= start < MINUTES_PER_DAY or not 0 < end <= MINUTES_PER_DAY:
            raise CalendarError(name, where, f"{_hhmm(start)}-{_hhmm(end)} is outside 00:00-24:00")
        if end <= start:
            raise CalendarError(name, where, f"{_hhmm(start)}-{_hhmm(end)} ends before it starts")
        result.append((start, end))
    result.sort()
    for (s1, e1), (s2, e2) in zip(result, result[1:], strict=False):
        if s2 < e1:
            raise CalendarError(name, where, f"{_hhmm(s1)}-{_hhmm(e1)} overlaps {_hhmm(s2)}-{_hhmm(e2)}")
    return tuple(result)


def _check_country(name: str, country: str, subdivision: str | None) -> None:
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise CalendarError(name, "holidays.country", f"{country!r} is not a country the holidays package knows")
    if subdivision is not None and subdivision not in supported[country]:
        raise CalendarError(name, "holidays.subdivision", f"{subdivision!r} is not a subdivision of {country}")


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _micros(t: datetime) -> int:
    if not isinstance(t, datetime):
        raise TypeError(f"expected a datetime, got {type(t).__name__}")
    if t.tzinfo is None or t.utcoffset() is None:
        raise NaiveDatetimeError(f"{t.isoformat()} has no time zone; SLA times must be aware datetimes")
    return (t - _EPOCH) // _US


def _locate(calendar: BusinessCalendar, t: datetime) -> tuple[_Year, int, int]:
    us = _micros(t)
    local = t.astimezone(calendar.tzinfo).date()
    table = calendar._year(local.year)
    return table, local.toordinal() - table.first, us


def _to_datetime(calendar: BusinessCalendar, us: int) -> datetime:
    return (_EPOCH + timedelta(microseconds=us)).astimezone(calendar.tzinfo)


def _length(calendar: BusinessCalendar, duration: Duration | timedelta) -> tuple[int, bool]:
    if isinstance(duration, Duration):
        length, business = duration.length(calendar), duration.business
    elif isinstance(duration, timedelta):
        length, business = duration, True
    else:
        raise TypeError(f"a duration must be a Duration or a timedelta, not {type(duration).__name__}")
    if length < timedelta(0):
        raise ValueError(f"a duration cannot be negative: {length}")
    return length // _US, business


def due(calendar: BusinessCalendar, start: datetime, duration: Duration | timedelta) -> datetime:
    """The instant `duration` after `start` (business time unless the Duration says calendar time)."""
    amount, business = _length(calendar, duration)
    table, index, us = _locate(calendar, start)
    if not business or amount == 0:
        # Zero business time is due at once, even when the calendar is closed at `start`.
        return _to_datetime(calendar, us + amount)
    target = table.position(index, us) + amount
    while target > table.total:
        target -= table.total
        if table.year >= 9998:
            raise ValueError(f"calendar {calendar.name!r} has no {duration} of business time left before 9999")
        table = calendar._year(table.year + 1)
    index = bisect_left(table.cumulative, target) - 1
    remaining = target - table.cumulative[index]
    for s, e in table.days[index]:
        if remaining <= e - s:
            return _to_datetime(calendar, s + remaining)
        remaining -= e - s
    raise AssertionError("running totals and day intervals disagree")  # pragma: no cover


def elapsed(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Business time between two instants (negative when `end` is before `start`)."""
    if _micros(end) < _micros(start):
        return -elapsed(calendar, end, start)
    table_a, index_a, us_a = _locate(calendar, start)
    table_b, index_b, us_b = _locate(calendar, end)
    total = table_b.position(index_b, us_b) - table_a.position(index_a, us_a)
    for year in range(table_a.year, table_b.year):
        total += calendar._year(year).total
    return timedelta(microseconds=total)


def is_open(calendar: BusinessCalendar, t: datetime) -> bool:
    """Whether the calendar is open at instant t (intervals include their start, exclude their end)."""
    table, index, us = _locate(calendar, t)
    return any(s <= us < e for s, e in table.days[index])


def next_open(calendar: BusinessCalendar, t: datetime) -> datetime:
    """t itself when open, else the start of the next opening interval."""
    table, index, us = _locate(calendar, t)
    for _ in range(_SEARCH_DAYS):
        for s, e in table.days[index]:
            if us < e:
                return _to_datetime(calendar, max(s, us))
        index += 1
        if index == len(table.days):
            table, index = calendar._year(table.year + 1), 0
    raise ValueError(f"calendar {calendar.name!r} does not open within {_SEARCH_DAYS} days of {t.isoformat()}")


def open_intervals(calendar: BusinessCalendar, day: date) -> list[tuple[datetime, datetime]]:
    """Opening intervals of a local date as aware datetimes in the calendar's zone."""
    table = calendar._year(day.year)
    spans = table.days[day.toordinal() - table.first]
    return [(_to_datetime(calendar, s), _to_datetime(calendar, e)) for s, e in spans]


def always_open(name: str = "24x7", zone: str = "UTC") -> BusinessCalendar:
    """A calendar open every minute of every day, so business time equals calendar time."""
    return BusinessCalendar(name=name, zone=zone, week=(ALWAYS,) * 7)
