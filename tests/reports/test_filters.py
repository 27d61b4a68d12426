"""Report filters: defaults, and a clear message for every kind of bad input."""

from datetime import date

import pytest

from engine.errors import InvalidInput
from engine.reports import Filters, parse_filters, parse_month, shift_month

TODAY = date(2026, 3, 16)
KEYS = ("complaint_handling", "client_onboarding")


def test_defaults_are_the_last_twelve_weeks():
    assert parse_filters({}, TODAY, KEYS) == Filters(date(2025, 12, 23), TODAY)


def test_values_are_taken_and_trimmed():
    found = parse_filters({"from": "2026-03-02", "to": "2026-03-15", "process": " complaint_handling ",
                           "category": "billing"}, TODAY, KEYS)
    assert found == Filters(date(2026, 3, 2), date(2026, 3, 15), "complaint_handling", "billing")
    assert found.weeks() == ["2026-03-02", "2026-03-09"]
    assert found.as_args() == {"from": "2026-03-02", "to": "2026-03-15", "process": "complaint_handling",
                               "category": "billing"}


@pytest.mark.parametrize(("args", "message"), [
    ({"from": "02/03/2026"}, "`from` must be a date written as YYYY-MM-DD"),
    ({"to": "2026-02-30"}, "`to` is not a real date"),
    ({"from": "2026-03-10", "to": "2026-03-01"}, "must not be after"),
    ({"from": "2020-01-01", "to": "2026-01-01"}, "at most three years"),
    ({"process": "nope"}, "there is no process 'nope'"),
    ({"category": "x" * 121}, "`category` may hold at most 120"),
    ({"category": "<script>"}, "`category` may hold"),
])
def test_bad_filters_say_what_is_wrong(args, message):
    with pytest.raises(InvalidInput, match=message):
        parse_filters(args, TODAY, KEYS)


def test_months_step_across_years():
    assert shift_month(date(2026, 1, 1), -1) == "2025-12" and shift_month(date(2026, 12, 1), 1) == "2027-01"
    assert shift_month(date(2026, 3, 1), -14) == "2025-01"


def test_months():
    assert parse_month("2026-02", TODAY) == (date(2026, 2, 1), date(2026, 2, 28))
    assert parse_month(None, TODAY) == (date(2026, 3, 1), date(2026, 3, 31))  # this month so far, not last
    assert parse_month("2024-12", TODAY) == (date(2024, 12, 1), date(2024, 12, 31))
    for bad in ("2026-13", "2026-1", "March", "2026-00"):
        with pytest.raises(InvalidInput, match="`month` must be written as YYYY-MM"):
            parse_month(bad, TODAY)
