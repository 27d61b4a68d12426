"""Portable SQL pieces for reports: durations, ISO weeks and percentiles on SQLite and PostgreSQL alike."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Float, String, func, select, tuple_
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


class day_of(FunctionElement):  # noqa: N801
    """The UTC day of a timestamp as 'YYYY-MM-DD' text (weeks are made of days in Python: cheaper than in SQL)."""

    type = String()
    inherit_cache = True


@compiles(day_of, "sqlite")
def _day_sqlite(element, compiler, **kw):
    # UTCDateTime stores UTC text 'YYYY-MM-DD HH:MM:SS.ffffff' on SQLite: the day is its first ten characters.
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 10)"


@compiles(day_of, "postgresql")
def _day_postgresql(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


def monday_of(day: str) -> str:
    """The Monday of the ISO week a 'YYYY-MM-DD' day falls in."""
    found = date.fromisoformat(day)
    return (found - timedelta(days=found.weekday())).isoformat()


def by_week(rows, columns: int = 1) -> dict[str, list]:
    """Sum per-day rows (day, n1, n2, ...) into per-week sums keyed by the week's Monday."""
    weeks: dict[str, list] = defaultdict(lambda: [0] * columns)
    for day, *counts in rows:
        sums = weeks[monday_of(day)]
        for index, count in enumerate(counts):
            sums[index] += count or 0
    return weeks


@dataclass(frozen=True)
class Spread:
    """How many values a group has, and their median and 90th percentile."""

    count: int
    median: float | None
    p90: float | None


def interpolated(ordered: list[float], percent: int) -> float:
    """The percentile of sorted values, interpolated between neighbours (PostgreSQL's percentile_cont)."""
    position = percent * (len(ordered) - 1) / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def spreads(conn, durations, groups: tuple[str, ...] = (), total: str | None = None) -> dict[tuple, Spread]:
    """Median and p90 of `durations.c.value` per group (None values left out).

    PostgreSQL computes them itself (`percentile_cont`); elsewhere the values are fetched in order and interpolated
    the same way here (SQLite has no percentile function, and fetching beat its window functions at 100,000 cases).
    With `total`, all rows together are one more group of that name."""
    keys = [durations.c[name] for name in groups]
    value = durations.c.value
    if conn.dialect.name == "postgresql":
        return _spreads_postgresql(conn, durations, keys, total)
    ordered: dict[tuple, list[float]] = defaultdict(list)
    for *group, found in conn.execute(select(*keys, value).where(value.is_not(None)).order_by(value)):
        ordered[tuple(group)].append(float(found))
    if total is not None and groups and ordered:
        ordered[(total,) * len(groups)] = sorted(v for values in list(ordered.values()) for v in values)
    return {group: Spread(len(values), *(interpolated(values, p) for p in PERCENTILES))
            for group, values in ordered.items()}


def _spreads_postgresql(conn, durations, keys: list, total: str | None) -> dict[tuple, Spread]:
    value = durations.c.value
    figures = [func.count(value), *(func.percentile_cont(p / 100).within_group(value) for p in PERCENTILES)]
    stmt = select(*keys, *figures).where(value.is_not(None))
    if keys:
        sets = [tuple(keys), ()] if total is not None else [tuple(keys)]
        stmt = stmt.group_by(func.grouping_sets(*(tuple_(*s) for s in sets)))
    found = {}
    for row in conn.execute(stmt):
        group, (count, *cuts) = row[:len(keys)], row[len(keys):]
        if count:
            group = tuple(total if g is None and total is not None else g for g in group)
            found[group] = Spread(count, *(float(c) for c in cuts))
    return found


def hours(seconds: float | None) -> float | None:
    """Seconds as hours, rounded for tables and CSV."""
    return None if seconds is None or math.isnan(seconds) else round(seconds / 3600, 2)
