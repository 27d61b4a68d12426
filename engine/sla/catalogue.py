"""The catalogue of business calendars: validating calendar documents (JSON) and the shipped set."""

import json
import re
from collections.abc import Mapping
from datetime import date
from importlib import resources

from .calendar import MINUTES_PER_DAY, WEEKDAYS, BusinessCalendar
from .durations import format_iso, parse_duration
from .errors import CalendarError, DurationError

_KNOWN_FIELDS = {"description", "zone", "hours", "holidays", "closed", "open", "business_day"}
_INTERVAL = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


def load_calendars(document: Mapping) -> dict[str, BusinessCalendar]:
    """Build calendars from a `{name: calendar document}` mapping; CalendarError names the calendar and field."""
    if not isinstance(document, Mapping):
        raise CalendarError("?", "(document)", "calendars must be a JSON object of name -> calendar")
    return {name: load_calendar(name, body) for name, body in document.items()}


def load_calendar(name: str, body: Mapping) -> BusinessCalendar:
    """Build one calendar from its document (see docs/sla.md for the fields)."""
    if not isinstance(name, str) or not name:
        raise CalendarError(str(name), "(name)", "a calendar needs a non-empty text name")
    if not isinstance(body, Mapping):
        raise CalendarError(name, "(document)", "must be a JSON object")
    unknown = sorted(set(body) - _KNOWN_FIELDS)
    if unknown:
        raise CalendarError(name, unknown[0], f"unknown field; expected one of {', '.join(sorted(_KNOWN_FIELDS))}")
    if "zone" not in body:
        raise CalendarError(name, "zone", "missing (an IANA zone such as 'Africa/Johannesburg')")
    if not isinstance(body["zone"], str):
        raise CalendarError(name, "zone", f"{body['zone']!r} is not an IANA time zone")
    country, subdivision = _holidays(name, body.get("holidays"))
    business_day = None
    if "business_day" in body:
        try:
            length = parse_duration(body["business_day"])
        except DurationError as error:
            raise CalendarError(name, "business_day", str(error)) from None
        if length.days or not length.business:
            raise CalendarError(name, "business_day", "give the length of one working day in hours (PT9H)")
        business_day = length.time
    return BusinessCalendar(
        name=name,
        zone=body["zone"],
        week=_week(name, body.get("hours")),
        holiday_country=country,
        holiday_subdivision=subdivision,
        closed_dates=_closed(name, body.get("closed", [])),
        open_dates=_open(name, body.get("open", {})),
        business_day=business_day,
        description=str(body.get("description", "")),
    )


def shipped_calendars() -> dict[str, BusinessCalendar]:
    """The calendars that ship with clientflow (`za-office`, `24x7`), freshly built."""
    text = resources.files(__package__).joinpath("calendars.json").read_text(encoding="utf-8")
    return load_calendars(json.loads(text))


def describe(calendar: BusinessCalendar) -> dict:
    """A calendar as plain data for lists: zone, weekly hours ("08:00-17:00" per weekday), holidays, business day."""
    def spans(intervals):
        return [f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}" for start, end in intervals]
    return {"name": calendar.name, "description": calendar.description, "zone": calendar.zone,
            "hours": {day: spans(intervals) for day, intervals in zip(WEEKDAYS, calendar.week, strict=True)
                      if intervals},
            "holidays": calendar.holiday_country and "-".join(filter(None, (calendar.holiday_country,
                                                                             calendar.holiday_subdivision))),
            "closed": {day.isoformat(): reason for day, reason in sorted(calendar.closed_dates.items())},
            "open": {day.isoformat(): spans(ivs) for day, ivs in sorted(calendar.open_dates.items())},
            "business_day": format_iso(0, calendar.business_day)}


def _week(name: str, hours) -> tuple:
    if not isinstance(hours, Mapping) or not hours:
        raise CalendarError(name, "hours", "missing: a JSON object such as {\"mon-fri\": [\"08:00-17:00\"]}")
    week = [[] for _ in WEEKDAYS]
    for key, intervals in hours.items():
        for weekday in _weekdays(name, key):
            week[weekday].extend(_intervals(name, f"hours.{key}", intervals))
    # Overlaps between keys ("mon-fri" and "mon") are caught by the calendar's own interval check.
    return tuple(tuple(day) for day in week)


def _weekdays(name: str, key: str) -> list[int]:
    parts = str(key).strip().lower().split("-")
    if len(parts) > 2 or any(part not in WEEKDAYS for part in parts):
        raise CalendarError(name, f"hours.{key}", f"unknown weekday; use {', '.join(WEEKDAYS)} or a range (mon-fri)")
    first, last = WEEKDAYS.index(parts[0]), WEEKDAYS.index(parts[-1])
    if last < first:
        raise CalendarError(name, f"hours.{key}", "a weekday range runs forward, from mon towards sun")
    return list(range(first, last + 1))


def _intervals(name: str, where: str, intervals) -> list[tuple[int, int]]:
    if isinstance(intervals, str) or not isinstance(intervals, list):
        raise CalendarError(name, where, "must be a list of \"HH:MM-HH:MM\" intervals")
    result = []
    for text in intervals:
        match = _INTERVAL.fullmatch(text.strip()) if isinstance(text, str) else None
        if not match:
            raise CalendarError(name, where, f"{text!r} is not an interval such as \"08:00-17:00\"")
        h1, m1, h2, m2 = (int(x) for x in match.groups())
        if m1 > 59 or m2 > 59 or h1 * 60 + m1 >= MINUTES_PER_DAY or h2 * 60 + m2 > MINUTES_PER_DAY:
            raise CalendarError(name, where, f"{text!r} is not a time of day (00:00 to 24:00)")
        result.append((h1 * 60 + m1, h2 * 60 + m2))
    return result


def _holidays(name: str, value) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, str):
        return value, None
    if isinstance(value, Mapping) and isinstance(value.get("country"), str):
        unknown = sorted(set(value) - {"country", "subdivision"})
        if unknown:
            raise CalendarError(name, f"holidays.{unknown[0]}", "unknown field; expected country, subdivision")
        return value["country"], value.get("subdivision")
    raise CalendarError(name, "holidays.country", "give a country code such as \"ZA\" or {\"country\": \"ZA\"}")


def _date(name: str, where: str, text) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise CalendarError(name, where, f"{text!r} is not an ISO date (YYYY-MM-DD)") from None


def _closed(name: str, closed) -> dict[date, str]:
    if isinstance(closed, Mapping):
        return {_date(name, "closed", day): str(reason) for day, reason in closed.items()}
    if isinstance(closed, list):
        return {_date(name, "closed", day): "" for day in closed}
    raise CalendarError(name, "closed", "must be a list of dates or a {date: reason} object")


def _open(name: str, opened) -> dict[date, list[tuple[int, int]]]:
    if not isinstance(opened, Mapping):
        raise CalendarError(name, "open", "must be a {date: [\"HH:MM-HH:MM\", ...]} object")
    return {_date(name, "open", day): _intervals(name, f"open.{day}", spans) for day, spans in opened.items()}
