"""`clientflow calendars ...`: the business calendars, and a deadline worked out by hand (docs/sla.md)."""

from __future__ import annotations

from datetime import datetime

import click
from engine.errors import InvalidInput

from webapp.cli.output import emit, engine_command, table


@click.group()
def calendars():
    """Business calendars: list them, work out a due time."""


@calendars.command("list")
@click.option("--json", "as_json", is_flag=True)
@engine_command
def calendars_list(engine, as_json):
    """List the business calendars with their zone, weekly hours and holidays."""
    rows = engine.sla.calendar_list()
    emit(rows, as_json, table(
        [[c["name"], c["zone"], _week(c["hours"]),
          c["holidays"] or "", c["business_day"]] for c in rows],
        ["CALENDAR", "ZONE", "HOURS", "HOLIDAYS", "BUSINESS DAY"]))


def _week(hours: dict[str, list[str]]) -> str:
    """`mon-fri 08:00-17:00`: consecutive weekdays with the same hours share one range."""
    groups: list[list] = []
    for day, spans in hours.items():
        if groups and groups[-1][2] == spans and _next_day(groups[-1][1]) == day:
            groups[-1][1] = day
        else:
            groups.append([day, day, spans])
    return "; ".join(f"{first if first == last else f'{first}-{last}'} {' '.join(spans)}"
                     for first, last, spans in groups)


def _next_day(day: str) -> str:
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    return days[(days.index(day) + 1) % 7]


@calendars.command("due")
@click.option("--calendar", "calendar", required=True, help="calendar name (see `calendars list`)")
@click.option("--start", required=True, help="start instant, ISO 8601 with a UTC offset (2026-12-11T15:00+02:00)")
@click.option("--duration", required=True, help="ISO 8601 duration: PT8H, P5D (business), calendar:P2D")
@click.option("--json", "as_json", is_flag=True)
@engine_command
def calendars_due(engine, calendar, start, duration, as_json):
    """Print when DURATION has passed after START on CALENDAR (business time unless `calendar:`)."""
    try:
        start_at = datetime.fromisoformat(start.strip())
    except ValueError:
        raise InvalidInput(f"--start {start!r} is not an ISO 8601 date-time such as 2026-12-11T15:00+02:00") from None
    due_at = engine.sla.calendar_due(calendar, start_at, duration)
    emit({"due": due_at.isoformat()}, as_json, due_at.isoformat())
