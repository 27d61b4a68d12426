"""Calendar documents: the shipped set, and an error naming the calendar and field for each kind of mistake."""

import json
from datetime import date, timedelta

import pytest

from engine.sla import CalendarError, load_calendars, shipped_calendars

OFFICE = {"zone": "Africa/Johannesburg", "hours": {"mon-fri": ["08:00-17:00"]}, "holidays": {"country": "ZA"}}


def test_shipped_calendars():
    calendars = shipped_calendars()
    assert sorted(calendars) == ["24x7", "za-office"]
    office, always = calendars["za-office"], calendars["24x7"]
    assert office.zone == "Africa/Johannesburg" and office.holiday_country == "ZA"
    assert office.week == (((480, 1020),),) * 5 + ((), ())
    assert always.zone == "UTC" and always.week == (((0, 1440),),) * 7 and always.business_day == timedelta(days=1)


def test_a_calendar_document_round_trips_through_json():
    body = dict(OFFICE, closed={"2026-12-24": "shutdown"}, open={"2026-12-19": ["09:00-13:00"]},
                business_day="PT9H", description="Cape Town branch")
    calendar = load_calendars(json.loads(json.dumps({"cpt": body})))["cpt"]
    assert calendar.closed_dates == {date(2026, 12, 24): "shutdown"}
    assert calendar.open_dates == {date(2026, 12, 19): ((540, 780),)}
    assert calendar.description == "Cape Town branch"


def test_weekday_keys_combine():
    calendar = load_calendars({"x": {"zone": "UTC", "hours": {"mon-thu": ["08:00-17:00"], "fri": ["08:00-13:00"],
                                                              "sat-sun": []}}})["x"]
    assert calendar.week[4] == ((480, 780),) and calendar.week[5] == ()


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"zone": "Africa/Joburg"}, "zone", "not an IANA time zone"),
    ({"zone": 2}, "zone", "not an IANA time zone"),
    ({"zone": None}, "zone", "not an IANA time zone"),
    ({"hours": {"mon": ["08:00-12:00", "11:00-17:00"]}}, "hours.mon", "overlaps"),
    ({"hours": {"mon-fri": ["08:00-17:00"], "fri": ["16:00-18:00"]}}, "hours.fri", "overlaps"),
    ({"hours": {"mon": ["17:00-08:00"]}}, "hours.mon", "ends before it starts"),
    ({"hours": {"mon": ["08:00-08:00"]}}, "hours.mon", "ends before it starts"),
    ({"hours": {"funday": ["08:00-17:00"]}}, "hours.funday", "unknown weekday"),
    ({"hours": {"fri-mon": ["08:00-17:00"]}}, "hours.fri-mon", "runs forward"),
    ({"hours": {"mon": ["8am-5pm"]}}, "hours.mon", "not an interval"),
    ({"hours": {"mon": "08:00-17:00"}}, "hours.mon", "must be a list"),
    ({"hours": {"mon": ["25:00-26:00"]}}, "hours.mon", "not a time of day"),
    ({"hours": {"mon": ["08:75-09:00"]}}, "hours.mon", "not a time of day"),
    ({"hours": {"mon-sun": []}}, "hours", "no working interval"),
    ({"hours": {}}, "hours", "missing"),
    ({"holidays": {"country": "XX"}}, "holidays.country", "not a country"),
    ({"holidays": "Narnia"}, "holidays.country", "not a country"),
    ({"holidays": {"country": "ZA", "subdivision": "GP"}}, "holidays.subdivision", "not a subdivision"),
    ({"holidays": {"country": "ZA", "region": "GP"}}, "holidays.region", "unknown field"),
    ({"holidays": 27}, "holidays.country", "country code"),
    ({"closed": ["24 December"]}, "closed", "not an ISO date"),
    ({"closed": "2026-12-24"}, "closed", "list of dates"),
    ({"open": {"2026-12-19": ["13:00-09:00"]}}, "open.2026-12-19", "ends before it starts"),
    ({"open": {"2026-12-19": []}}, "open.2026-12-19", "at least one interval"),
    ({"open": ["2026-12-19"]}, "open", "object"),
    ({"closed": ["2026-12-19"], "open": {"2026-12-19": ["09:00-13:00"]}}, "open.2026-12-19", "also listed as closed"),
    ({"business_day": "nine hours"}, "business_day", "not an ISO 8601 duration"),
    ({"business_day": "P1D"}, "business_day", "in hours"),
    ({"business_day": "PT0S"}, "business_day", "longer than zero"),
    ({"timezone": "UTC"}, "timezone", "unknown field"),
])
def test_each_mistake_names_calendar_and_field(change, field, message):
    body = dict(OFFICE, **change)
    with pytest.raises(CalendarError) as caught:
        load_calendars({"branch": body})
    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.calendar, error.field) == ("branch", field)
    assert message in str(error) and str(error).startswith(f"calendar 'branch': {field}: ")


def test_a_missing_zone_is_named():
    with pytest.raises(CalendarError, match="calendar 'branch': zone: missing"):
        load_calendars({"branch": {"hours": {"mon": ["08:00-17:00"]}}})


@pytest.mark.parametrize("document", [[], "za-office", {"branch": "Mon-Fri"}])
def test_documents_that_are_not_objects(document):
    with pytest.raises(CalendarError, match="JSON object"):
        load_calendars(document)
