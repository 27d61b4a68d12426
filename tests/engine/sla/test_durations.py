"""ISO 8601 durations in business time and in calendar time."""

from datetime import timedelta

import pytest

from engine.sla import Duration, DurationError, parse_duration, shipped_calendars


@pytest.mark.parametrize(("text", "expected"), [
    ("PT8H", Duration(time=timedelta(hours=8))),
    ("business:PT8H", Duration(time=timedelta(hours=8))),
    ("P5D", Duration(days=5)),
    ("P1DT4H30M", Duration(days=1, time=timedelta(hours=4, minutes=30))),
    ("PT1.5H", Duration(time=timedelta(minutes=90))),
    ("PT0,25H", Duration(time=timedelta(minutes=15))),
    ("PT90S", Duration(time=timedelta(seconds=90))),
    ("calendar:P2D", Duration(days=2, business=False)),
    ("calendar:P1W", Duration(days=7, business=False)),
    (" pt8h ", Duration(time=timedelta(hours=8))),
])
def test_parse(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["PT8H", "P5D", "P1DT4H30M", "calendar:P2D", "PT0.5S", "PT0S", "calendar:PT15M"])
def test_text_round_trips(text):
    assert str(parse_duration(text)) == text


def test_lengths_on_a_calendar():
    calendars = shipped_calendars()
    assert parse_duration("P2DT1H").length(calendars["za-office"]) == timedelta(hours=19)
    assert parse_duration("P2DT1H").length(calendars["24x7"]) == timedelta(hours=49)
    assert parse_duration("calendar:P2DT1H").length(calendars["za-office"]) == timedelta(hours=49)


def test_adding_durations():
    assert parse_duration("P1D") + parse_duration("PT2H") == Duration(days=1, time=timedelta(hours=2))
    with pytest.raises(DurationError, match="business-time duration to a calendar-time"):
        parse_duration("P1D") + parse_duration("calendar:P1D")


@pytest.mark.parametrize(("text", "message"), [
    ("P1M", "no fixed length"),
    ("P1Y", "no fixed length"),
    ("P1W", "business week is ambiguous"),
    ("P1.5D", "whole days"),
    ("8 hours", "not an ISO 8601 duration"),
    ("P", "not an ISO 8601 duration"),
    ("PT", "not an ISO 8601 duration"),
    ("P1DT", "not an ISO 8601 duration"),
    ("-PT1H", "not an ISO 8601 duration"),
    ("PT1.2.3H", "not a number"),
    (8, "ISO 8601 text"),
])
def test_bad_durations(text, message):
    with pytest.raises(DurationError, match=message):
        parse_duration(text)


def test_negative_durations_cannot_be_built():
    with pytest.raises(DurationError, match="negative"):
        Duration(time=timedelta(hours=-1))
