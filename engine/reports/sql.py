"""Portable SQL pieces for reports: durations, ISO weeks and percentiles on SQLite and PostgreSQL alike."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Float, String, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

PERCENTILES = (50, 90)


class seconds_between(FunctionElement):  # noqa: N801 - reads like the SQL function it stands for
    """Seconds from the first timestamp to the second, as a float."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element, compiler, **kw):
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element, compiler, **kw):
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION)"


class week_of(FunctionElement):  # noqa: N801
    """The Monday (UTC) of a timestamp's ISO week, as 'YYYY-MM-DD' text."""

    type = String()
    inherit_cache = True


@compiles(week_of, "sqlite")
def _week_sqlite(element, compiler, **kw):
    # 'weekday 0' moves forward to Sunday (or stays on one); six days back is that week's Monday.
    return f"date({compiler.process(element.clauses, **kw)}, 'weekday 0', '-6 days')"


@compiles(week_of, "postgresql")
def _week_postgresql(element, compiler, **kw):
    return f"to_char(date_trunc('week', {compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"


@dataclass(frozen=True)
class Spread:
    """How many values a group has, and their median and 90th percentile."""

    count: int
    median: float | None
    p90: float | None


def _ranks(n: int, percent: int) -> tuple[int, int]:
    """The two 1-based ranks a percentile interpolates between (PostgreSQL's percentile_cont)."""
    position = percent * (n - 1)
    return 1 + position // 100, 1 + (position + 99) // 100


def _interpolate(values: dict[int, float], n: int, percent: int) -> float:
    low, high = _ranks(n, percent)
    fraction = percent * (n - 1) / 100 - (low - 1)
    return values[low] + fraction * (values[high] - values[low])


def spreads(conn, durations, groups: tuple[str, ...] = ()) -> dict[tuple, Spread]:
    """Median and p90 of `durations.c.value` per group, computed in the database with window functions.

    Only the rows next to each percentile's rank leave the database, so this stays cheap at any size."""
    keys = [durations.c[name] for name in groups]
    ranked = select(*keys, durations.c.value,
                    func.row_number().over(partition_by=keys or None, order_by=durations.c.value).label("rank"),
                    func.count().over(partition_by=keys or None).label("n")
                    ).where(durations.c.value.is_not(None)).subquery()
    wanted = [ranked.c.rank == bound for percent in PERCENTILES
              for bound in (1 + (percent * (ranked.c.n - 1)) // 100, 1 + (percent * (ranked.c.n - 1) + 99) // 100)]
    rows = conn.execute(select(ranked).where(or_(*wanted))).all()
    found: dict[tuple, dict[int, float]] = defaultdict(dict)
    sizes: dict[tuple, int] = {}
    for row in rows:
        group = tuple(row._mapping[name] for name in groups)
        found[group][row.rank] = float(row.value)
        sizes[group] = row.n
    return {group: Spread(n, _interpolate(found[group], n, 50), _interpolate(found[group], n, 90))
            for group, n in sizes.items()}


def hours(seconds: float | None) -> float | None:
    """Seconds as hours, rounded for tables and CSV."""
    return None if seconds is None or math.isnan(seconds) else round(seconds / 3600, 2)
