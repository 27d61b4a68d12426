"""`clientflow calendars list|due`: the business calendars and a deadline worked out by hand."""

import json

import pytest
from click.testing import CliRunner

from webapp.cli.commands import main


@pytest.fixture
def cli(app):
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, ["calendars", *args], obj=app, catch_exceptions=False)
    return invoke


def test_list_json_and_table(cli):
    listed = json.loads(cli("list", "--json").stdout)
    by_name = {c["name"]: c for c in listed}
    assert set(by_name) == {"za-office", "24x7"}
    office = by_name["za-office"]
    assert office["zone"] == "Africa/Johannesburg" and office["holidays"] == "ZA"
    assert office["hours"] == {day: ["08:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    assert office["business_day"] == "PT9H"
    text = cli("list").stdout
    assert "za-office  Africa/Johannesburg  mon-fri 08:00-17:00  ZA" in text
    assert "mon-sun 00:00-24:00" in text


@pytest.mark.parametrize("start, duration, expected", [
    ("2026-12-11T15:00:00+02:00", "PT8H", "2026-12-14T14:00:00+02:00"),   # Friday 15:00 across the weekend
    ("2026-12-11T10:00:00+02:00", "P5D", "2026-12-21T10:00:00+02:00"),    # across 16 December
    ("2026-08-07T16:00:00+02:00", "PT2H", "2026-08-11T09:00:00+02:00"),   # Women's Day observed on Monday 10th
    ("2026-12-11T13:00:00Z", "PT8H", "2026-12-14T14:00:00+02:00"),        # UTC start, answer in the zone
    ("2026-12-11T15:00:00+02:00", "calendar:P2D", "2026-12-13T15:00:00+02:00"),
])
def test_due(cli, start, duration, expected):
    result = cli("due", "--calendar", "za-office", "--start", start, "--duration", duration, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"due": expected}
    assert cli("due", "--calendar", "za-office", "--start", start, "--duration", duration).stdout.strip() == expected


def test_due_on_24x7(cli):
    result = cli("due", "--calendar", "24x7", "--start", "2026-12-11T15:00:00+02:00", "--duration", "P1D", "--json")
    assert json.loads(result.stdout) == {"due": "2026-12-12T13:00:00+00:00"}


@pytest.mark.parametrize("args, message", [
    (("--calendar", "mars", "--start", "2026-12-11T15:00+02:00", "--duration", "PT8H"),
     "error: unknown calendar 'mars'; known: 24x7, za-office"),
    (("--calendar", "za-office", "--start", "2026-12-11T15:00", "--duration", "PT8H"),
     "error: start 2026-12-11T15:00:00 has no UTC offset; add one, such as +02:00 or Z"),
    (("--calendar", "za-office", "--start", "Friday 3pm", "--duration", "PT8H"),
     "error: --start 'Friday 3pm' is not an ISO 8601 date-time such as 2026-12-11T15:00+02:00"),
    (("--calendar", "za-office", "--start", "2026-12-11T15:00+02:00", "--duration", "8 hours"),
     "error: duration: '8 hours' is not an ISO 8601 duration such as 'PT8H', 'P5D' or 'calendar:P2D'"),
    (("--calendar", "za-office", "--start", "2026-12-11T15:00+02:00", "--duration", "P1M"),
     "error: duration: 'P1M': years and months have no fixed length; use days"),
])
def test_due_bad_input_is_one_line_and_exit_2(cli, args, message):
    result = cli("due", *args, "--json")
    assert result.exit_code == 2
    assert result.stderr.strip() == message
    assert result.stdout == ""
