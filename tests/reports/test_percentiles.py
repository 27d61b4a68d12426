"""Median and p90 (percentile_cont on PostgreSQL, fetched values on SQLite) match Python's inclusive quantiles."""

import random
import statistics

from sqlalchemy import Float, String, cast, literal, select, union_all

from engine.reports.sql import spreads


def python_spread(data):
    data = sorted(data)
    p90 = statistics.quantiles(data, n=10, method="inclusive")[8] if len(data) > 1 else data[0]
    return len(data), statistics.median(data), p90


def durations(rows):
    """A subquery of (team, value) rows made of literals, so the test needs no table."""
    return union_all(*(select(literal(team, String).label("team"), cast(literal(value, Float), Float).label("value"))
                       for team, value in rows)).subquery("durations")


def test_window_percentiles_match_inclusive_quantiles(engine):
    rng = random.Random(8)
    rows = [(team, round(rng.expovariate(1 / 3600), 3)) for team in ("a", "b", "c") for _ in range(rng.randint(1, 40))]
    with engine.sql_engine.connect() as conn:
        found = spreads(conn, durations(rows), ("team",))
        overall = spreads(conn, durations(rows))[()]
    for team in ("a", "b", "c"):
        count, median, p90 = python_spread([v for t, v in rows if t == team])
        assert found[(team,)].count == count
        assert abs(found[(team,)].median - median) < 1e-6 and abs(found[(team,)].p90 - p90) < 1e-6
    count, median, p90 = python_spread([v for _, v in rows])
    assert (overall.count, round(overall.median, 6), round(overall.p90, 6)) == (count, round(median, 6), round(p90, 6))


def test_nulls_are_left_out_and_no_rows_means_no_groups(engine):
    with engine.sql_engine.connect() as conn:
        assert spreads(conn, durations([("a", None), ("a", 5.0)]), ("team",))[("a",)].median == 5.0
        assert spreads(conn, durations([("a", None)])) == {}
