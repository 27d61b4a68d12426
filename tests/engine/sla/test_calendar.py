"""Business calendars on named dates: weekends, South African holidays, overrides, split shifts, DST."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.sla import (
    BusinessCalendar,
    Duration,
    NaiveDatetimeError,
    always_open,
    due,
    elapsed,
    is_open,
    load_calendar,
    next_open,
    open_intervals,
    parse_duration,
    shipped_calendars,
)

SAST = ZoneInfo("Africa/Johannesburg")
HOURS = timedelta(hours=1)


def sast(*args):
    return datetime(*args, tzinfo=SAST)


@pytest.fixture
def za():
    return shipped_calendars()["za-office"]


def test_friday_afternoon_complaint_is_due_monday_after_the_weekend(za):
    assert due(za, sast(2026, 12, 11, 15), 8 * HOURS) == sast(2026, 12, 14, 14)


def test_the_day_of_reconciliation_does_not_count(za):
    assert za.holiday(date(2026, 12, 16)) == "Day of Reconciliation"
    assert due(za, sast(2026, 12, 15, 15), 8 * HOURS) == sast(2026, 12, 17, 14)


def test_the_issue_low_severity_example_skips_16_december(za):
    # Registered Friday 11 December with five business days: 14, 15, 17, 18 and 21 December.
    assert due(za, sast(2026, 12, 11, 10), parse_duration("P5D")) == sast(2026, 12, 21, 10)


def test_womens_day_on_a_sunday_closes_the_monday(za):
    assert "observed" in za.holiday(date(2026, 8, 10))
    assert not is_open(za, sast(2026, 8, 10, 10))
    assert due(za, sast(2026, 8, 7, 15), 8 * HOURS) == sast(2026, 8, 11, 14)


def test_a_business_day_is_the_calendars_working_day_length(za):
    assert za.business_day == 9 * HOURS
    assert due(za, sast(2026, 12, 31, 15), parse_duration("P5D")) == sast(2027, 1, 8, 15)


def test_a_due_time_lands_at_closing_not_at_the_next_opening(za):
    assert due(za, sast(2026, 12, 14, 8), 9 * HOURS) == sast(2026, 12, 14, 17)


def test_a_site_closure_is_skipped():
    body = {"zone": "Africa/Johannesburg", "hours": {"mon-fri": ["08:00-17:00"]}, "holidays": "ZA",
            "closed": {"2026-12-24": "year-end shutdown"}}
    closing = load_calendar("site", body)
    without = load_calendar("site", {k: v for k, v in body.items() if k != "closed"})
    assert due(without, sast(2026, 12, 23, 15), 8 * HOURS) == sast(2026, 12, 24, 14)
    # 24 closed, 25 Christmas, 26-27 weekend (Day of Goodwill on a Saturday moves nowhere).
    assert due(closing, sast(2026, 12, 23, 15), 8 * HOURS) == sast(2026, 12, 28, 14)
    assert closing.closure(date(2026, 12, 24)) == "year-end shutdown"


def test_an_extra_open_date_counts_even_on_a_weekend_or_holiday():
    extra = {"2026-12-19": ["09:00-13:00"], "2026-12-16": ["09:00-12:00"]}
    cal = load_calendar("site", {"zone": "Africa/Johannesburg", "hours": {"mon-fri": ["08:00-17:00"]},
                                 "holidays": "ZA", "open": extra})
    assert due(cal, sast(2026, 12, 18, 15), 8 * HOURS) == sast(2026, 12, 21, 10)
    assert is_open(cal, sast(2026, 12, 16, 10)) and cal.closure(date(2026, 12, 16)) is None
    assert elapsed(cal, sast(2026, 12, 16, 0), sast(2026, 12, 17, 0)) == 3 * HOURS


@pytest.fixture
def split():
    return load_calendar("split", {"zone": "Africa/Johannesburg", "hours": {"mon-fri": ["08:00-12:00", "13:00-17:00"]}})


def test_split_shifts_skip_the_lunch_break(split):
    assert split.business_day == 8 * HOURS
    assert due(split, sast(2026, 12, 14, 11), 2 * HOURS) == sast(2026, 12, 14, 14)
    assert due(split, sast(2026, 12, 14, 12, 30), HOURS) == sast(2026, 12, 14, 14)
    assert due(split, sast(2026, 12, 14, 11), HOURS) == sast(2026, 12, 14, 12)
    assert not is_open(split, sast(2026, 12, 14, 12, 30))
    assert next_open(split, sast(2026, 12, 14, 12, 30)) == sast(2026, 12, 14, 13)
    assert elapsed(split, sast(2026, 12, 14, 7), sast(2026, 12, 14, 18)) == 8 * HOURS


def test_open_and_next_open_at_the_edges(za):
    assert is_open(za, sast(2026, 12, 14, 8)) and not is_open(za, sast(2026, 12, 14, 17))
    assert next_open(za, sast(2026, 12, 14, 9)) == sast(2026, 12, 14, 9)
    assert next_open(za, sast(2026, 12, 24, 18)) == sast(2026, 12, 28, 8)
    assert next_open(za, sast(2026, 12, 31, 20)) == sast(2027, 1, 4, 8)
    assert open_intervals(za, date(2026, 12, 14)) == [(sast(2026, 12, 14, 8), sast(2026, 12, 14, 17))]
    assert open_intervals(za, date(2026, 12, 16)) == []


def test_results_are_in_the_calendars_zone(za):
    result = due(za, datetime(2026, 12, 11, 13, tzinfo=ZoneInfo("UTC")), 8 * HOURS)
    assert result.tzinfo.key == "Africa/Johannesburg" and result == sast(2026, 12, 14, 14)


def test_calendar_time_ignores_opening_hours(za):
    assert due(za, sast(2026, 12, 11, 15), parse_duration("calendar:P2D")) == sast(2026, 12, 13, 15)


def test_zero_business_time_is_due_at_once_even_when_closed(za):
    assert due(za, sast(2026, 12, 12, 3), timedelta(0)) == sast(2026, 12, 12, 3)
    assert due(za, sast(2026, 12, 12, 3), timedelta(microseconds=1)) == sast(2026, 12, 14, 8) + timedelta(
        microseconds=1)


def test_elapsed_is_the_inverse_and_signed(za):
    start, end = sast(2026, 12, 11, 15), sast(2026, 12, 17, 14)
    assert elapsed(za, start, end) == 2 * HOURS + 9 * HOURS + 9 * HOURS + 6 * HOURS
    assert elapsed(za, end, start) == -elapsed(za, start, end)
    # 28-31 December are working days; 1 January is a holiday.
    assert elapsed(za, sast(2026, 12, 25, 9), sast(2027, 1, 4, 9)) == 4 * 9 * HOURS + HOURS


def test_always_open_counts_wall_clock_across_dst():
    london = always_open("24x7-london", "Europe/London")
    start = datetime(2026, 3, 28, 12, tzinfo=ZoneInfo("Europe/London"))
    assert elapsed(london, start, start + timedelta(days=1)) == 23 * HOURS
    # Aware arithmetic within one zone is wall-clock arithmetic, so compare in UTC: 30 real hours.
    assert due(london, start, 30 * HOURS) == start.astimezone(ZoneInfo("UTC")) + 30 * HOURS
    assert due(london, start, 30 * HOURS).hour == 19


def test_office_hours_follow_local_time_across_dst():
    london = load_calendar("london", {"zone": "Europe/London", "hours": {"mon-fri": ["09:00-17:00"]}})
    tz = ZoneInfo("Europe/London")
    # The clocks go forward on Sunday 29 March 2026; Monday still opens at 09:00 local time.
    assert due(london, datetime(2026, 3, 27, 16, tzinfo=tz), 2 * HOURS) == datetime(2026, 3, 30, 10, tzinfo=tz)


def test_a_very_long_duration_crosses_years(za):
    start = sast(2026, 3, 2, 8)
    result = due(za, start, Duration(days=600))
    assert result.year == 2028
    assert elapsed(za, start, result) == 600 * 9 * HOURS


@pytest.mark.parametrize("call", [
    lambda cal: due(cal, datetime(2026, 12, 11, 15), HOURS),
    lambda cal: due(cal, sast(2026, 12, 11, 15), HOURS) and elapsed(cal, datetime(2026, 12, 11), sast(2026, 12, 12)),
    lambda cal: is_open(cal, datetime(2026, 12, 11, 15)),
    lambda cal: next_open(cal, datetime(2026, 12, 11, 15)),
])
def test_naive_datetimes_are_refused(za, call):
    with pytest.raises(NaiveDatetimeError, match="no time zone"):
        call(za)


def test_negative_durations_are_refused(za):
    with pytest.raises(ValueError, match="negative"):
        due(za, sast(2026, 12, 11, 15), -HOURS)


def test_calendars_built_in_code_are_checked_too():
    with pytest.raises(ValueError, match="overlaps"):
        BusinessCalendar("x", "UTC", week=(((60, 120), (90, 180)),) + ((),) * 6)
