"""Properties of due/elapsed on three kinds of calendar, checked against a slow day-by-day reference."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.sla import Duration, due, elapsed, is_open, load_calendar, next_open, shipped_calendars

# No example database: the run must not write files outside the test folder.
PROPERTY = settings(max_examples=300, deadline=None, database=None)
US = timedelta(microseconds=1)

SHIPPED = shipped_calendars()
CALENDARS = {
    "za-office": SHIPPED["za-office"],
    "24x7": SHIPPED["24x7"],
    # Split shifts, a Saturday morning, a closure and an extra day, in a zone with daylight saving time.
    "london-split": load_calendar("london-split", {
        "zone": "Europe/London", "holidays": {"country": "GB", "subdivision": "ENG"},
        "hours": {"mon-fri": ["08:30-12:00", "13:00-17:30"], "sat": ["09:00-12:00"]},
        "closed": ["2026-03-30", "2026-10-26"], "open": {"2026-12-27": ["10:00-11:00"]},
    }),
}

calendars = st.sampled_from(sorted(CALENDARS)).map(CALENDARS.get)
instants = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2028, 1, 31),
                        timezones=st.just(UTC)).map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))
amounts = st.one_of(
    st.just(timedelta(0)),
    st.integers(1, 10 * 9 * 60).map(lambda m: timedelta(minutes=m)),
    st.integers(1, 40 * 24 * 3600 * 10**6).map(lambda us: timedelta(microseconds=us)),
)


def reference_elapsed(calendar, start, end):
    """Open time in [start, end) summed over each local day's intervals, built straight from the rules."""
    tz = calendar.tzinfo
    day, last = start.astimezone(tz).date() - timedelta(days=1), end.astimezone(tz).date() + timedelta(days=1)
    total = timedelta(0)
    while day <= last:
        for a, b in calendar.intervals(day):
            opens = datetime.combine(day, time(a // 60, a % 60), tzinfo=tz)
            closes = (datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz) if b == 1440
                      else datetime.combine(day, time(b // 60, b % 60), tzinfo=tz))
            lo, hi = max(opens, start), min(closes, end)
            if hi > lo:
                total += hi.astimezone(UTC) - lo.astimezone(UTC)
        day += timedelta(days=1)
    return total


@PROPERTY
@given(calendars, instants, amounts)
def test_elapsed_counts_back_what_due_added(calendar, start, amount):
    assert elapsed(calendar, start, due(calendar, start, amount)) == amount


@PROPERTY
@given(calendars, instants, instants)
def test_elapsed_agrees_with_the_day_by_day_reference(calendar, a, b):
    a, b = min(a, b), max(a, b)
    if b - a > timedelta(days=90):
        b = a + timedelta(days=90)
    assert elapsed(calendar, a, b) == reference_elapsed(calendar, a, b)


@PROPERTY
@given(calendars, instants, amounts, amounts)
def test_due_is_additive(calendar, start, a, b):
    assert due(calendar, due(calendar, start, a), b) == due(calendar, start, a + b)


@PROPERTY
@given(calendars, instants, amounts, amounts)
def test_due_is_monotone_in_duration(calendar, start, a, b):
    a, b = min(a, b), max(a, b)
    assert due(calendar, start, a) <= due(calendar, start, b)


@PROPERTY
@given(calendars, instants, instants, amounts)
def test_due_is_monotone_in_start(calendar, s, t, amount):
    s, t = min(s, t), max(s, t)
    assert due(calendar, s, amount) <= due(calendar, t, amount)


@PROPERTY
@given(calendars, instants, amounts.filter(bool))
def test_due_never_lands_inside_closed_hours(calendar, start, amount):
    result = due(calendar, start, amount)
    # The due instant closes a stretch of open time: the microsecond before it is business time.
    assert result > start
    assert is_open(calendar, result - US)
    assert elapsed(calendar, result - US, result) == US


@PROPERTY
@given(calendars, instants, instants, instants)
def test_elapsed_is_additive(calendar, a, b, c):
    a, b, c = sorted((a, b, c))
    assert elapsed(calendar, a, b) + elapsed(calendar, b, c) == elapsed(calendar, a, c)


@PROPERTY
@given(calendars, instants)
def test_next_open_is_open_and_skips_no_business_time(calendar, t):
    opening = next_open(calendar, t)
    assert opening >= t and is_open(calendar, opening)
    assert elapsed(calendar, t, opening) == timedelta(0)
    assert is_open(calendar, t) == (opening == t)


@PROPERTY
@given(calendars, instants, st.integers(0, 30), st.integers(0, 24 * 60))
def test_business_days_are_business_day_lengths(calendar, start, days, minutes):
    duration = Duration(days=days, time=timedelta(minutes=minutes))
    assert due(calendar, start, duration) == due(calendar, start, days * calendar.business_day
                                                 + timedelta(minutes=minutes))


@pytest.mark.parametrize("name", sorted(CALENDARS))
def test_the_reference_itself_sees_closures(name):
    # Guards the oracle: a week in 2026 has the calendar's open hours minus its holidays, never zero.
    calendar = CALENDARS[name]
    week = reference_elapsed(calendar, datetime(2026, 12, 7, tzinfo=UTC), datetime(2026, 12, 14, tzinfo=UTC))
    assert timedelta(0) < week <= timedelta(days=7)


def test_the_24x7_calendar_is_plain_time():
    start = datetime(2026, 12, 11, 15, tzinfo=ZoneInfo("Africa/Johannesburg"))
    assert due(CALENDARS["24x7"], start, timedelta(hours=50)) == start + timedelta(hours=50)
