"""Service reports: response times, resolution, SLA breaches, satisfaction, onboarding and work in progress.

Everything is SQL over our own tables (`process_instance`, `event`, `human_task`, `instance_fact`); no workflow
is ever deserialized. Milestones (engine/reports/milestones.py) say which events mean "acknowledged",
"resolved" and so on; facts (engine/core/facts.py) hold the category, severity and rating of each case.
docs/reports.md defines every figure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime

from engine.reports import sla, tables
from engine.reports.filters import Filters, parse_filters, parse_month, shift_month
from engine.reports.milestones import MILESTONES, PROCESS_MILESTONES, milestone_map
from engine.reports.tables import Context, Table

__all__ = ["Filters", "parse_filters", "parse_month", "shift_month", "MILESTONES", "PROCESS_MILESTONES", "Table",
           "TABLES", "dashboard", "table", "monthly_summary", "headline", "categories"]

# name -> (title, columns, query); the order is the dashboard's.
TABLES: dict[str, tuple[str, tuple[str, ...], Callable[[Context], list[tuple]]]] = {
    "volume": ("Cases opened and closed per week", ("week", "opened", "closed"), tables.volume),
    "response_times": ("Time to acknowledge and to resolve (hours)",
                       ("measure", "severity", "cases", "median_hours", "p90_hours"), tables.response_times),
    "breach_by_category": ("SLA breach rate by category", ("category", "cases", "breached", "breach_rate_pct"),
                           tables.breach_by_category),
    "breach_by_severity": ("SLA breach rate by severity", ("severity", "cases", "breached", "breach_rate_pct"),
                           tables.breach_by_severity),
    "escalations": ("Escalations per week", ("week", "escalated_cases", "escalations"), tables.escalations),
    "reopens": ("Reopen rate by week opened", ("week", "resolved", "reopened", "reopen_rate_pct"), tables.reopens),
    "satisfaction_trend": ("Satisfaction score per week (1-5)", ("week", "responses", "average_rating"),
                           tables.satisfaction_trend),
    "satisfaction_distribution": ("Satisfaction score distribution", ("rating", "responses"),
                                  tables.satisfaction_distribution),
    "onboarding": ("Onboarding lead time and compliance gate (hours)",
                   ("measure", "cases", "waiting_now", "median_hours", "p90_hours"), tables.onboarding),
    "wip": ("Work in progress per lane (now)", ("lane", "open_tasks", "unclaimed", "overdue", "oldest_hours"),
            tables.wip),
    "sla_targets": ("SLA attainment and minutes over target, per target, priority and category (business time)",
                    sla.COLUMNS, sla.sla_targets),
    "sla_teams": ("SLA attainment and minutes over target per team (business time)", sla.TEAM_COLUMNS,
                  sla.sla_teams),
    "sla_agents": ("SLA attainment and minutes over target per agent (business time)", sla.AGENT_COLUMNS,
                   sla.sla_agents),
}

Overrides = Mapping[str, Mapping[str, tuple[str, ...]]] | None


def _context(conn, filters: Filters, now: datetime, overrides: Overrides) -> Context:
    return Context(conn, filters, milestone_map(conn, overrides), now)


def _build(name: str, ctx: Context) -> Table:
    title, columns, query = TABLES[name]
    return Table(name, title, columns, query(ctx))


def table(conn, name: str, filters: Filters, now: datetime, overrides: Overrides = None) -> Table:
    """One report table (KeyError for an unknown name)."""
    if name not in TABLES:
        raise KeyError(name)
    return _build(name, _context(conn, filters, now, overrides))


def dashboard(conn, filters: Filters, now: datetime, overrides: Overrides = None) -> dict[str, Table]:
    """Every report table, in dashboard order."""
    ctx = _context(conn, filters, now, overrides)
    return {name: _build(name, ctx) for name in TABLES}


def _row(t: Table, **match) -> dict | None:
    for row in t.rows:
        values = dict(zip(t.columns, row, strict=True))
        if all(values[k] == v for k, v in match.items()):
            return values
    return None


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(100 * numerator / denominator, 1) if denominator else None


def headline(reports: dict[str, Table]) -> list[tuple[str, object, str]]:
    """The key figures of a dashboard: (label, value, unit); a value is None when there was nothing to measure."""
    volume, breaches = reports["volume"], reports["breach_by_category"]
    reopens, trend = reports["reopens"], reports["satisfaction_trend"]
    ack = _row(reports["response_times"], measure="acknowledge", severity="all") or {}
    resolve = _row(reports["response_times"], measure="resolve", severity="all") or {}
    lead = _row(reports["onboarding"], measure="start to activation") or {}
    gate = _row(reports["onboarding"], measure="waiting at the compliance gate") or {}
    answers = sum(trend.column("responses"))
    average = (sum(n * (a or 0) for n, a in zip(trend.column("responses"), trend.column("average_rating"),
                                                 strict=True)) / answers) if answers else None
    return [
        ("Cases opened", sum(volume.column("opened")), "cases"),
        ("Cases closed", sum(volume.column("closed")), "cases"),
        ("Median time to acknowledge", ack.get("median_hours"), "hours"),
        ("90th percentile time to acknowledge", ack.get("p90_hours"), "hours"),
        ("Median time to resolve", resolve.get("median_hours"), "hours"),
        ("90th percentile time to resolve", resolve.get("p90_hours"), "hours"),
        ("SLA breach rate", _ratio(sum(breaches.column("breached")), sum(breaches.column("cases"))), "%"),
        ("Escalated cases", sum(reports["escalations"].column("escalated_cases")), "cases"),
        ("Reopen rate", _ratio(sum(reopens.column("reopened")), sum(reopens.column("resolved"))), "%"),
        ("Average satisfaction", round(average, 2) if average is not None else None, "of 5"),
        ("Survey answers", answers, "answers"),
        ("Median onboarding lead time", lead.get("median_hours"), "hours"),
        ("Median wait at the compliance gate", gate.get("median_hours"), "hours"),
    ]


def categories(conn) -> list[str]:
    """Every category value cases have (for the category filter)."""
    return tables.categories(conn)


def monthly_summary(conn, first: date, last: date, now: datetime, process: str | None = None,
                    overrides: Overrides = None) -> tuple[Filters, dict[str, Table], Table]:
    """A month's dashboard and its key figures as a table (metric, value, unit)."""
    filters = Filters(first, last, process)
    reports = dashboard(conn, filters, now, overrides)
    so_far = " (so far)" if last >= now.date() else ""
    summary = Table("monthly_summary", f"Service summary {first:%B %Y}{so_far}", ("metric", "value", "unit"),
                    [(label, "" if value is None else value, unit) for label, value, unit in headline(reports)])
    return filters, reports, summary
