"""Report queries on a small dataset whose answers were worked out by hand (conftest.py `dataset`).

Range 2026-03-02..15 holds two ISO weeks. Complaints C1-C4 are opened in it (C5 before it, closed in it).
Acknowledged after: C1 2 h, C2 4 h, C3 30 h, C4 1 h. Last resolution after: C1 24 h, C2 72 h (resolved, reopened,
resolved again), C3 144 h; C4 is open. SLA timers fired: C3 (acknowledgement_overdue), C4 (sla_breached); C1's
breach timer was cancelled and C2's warning is no breach.
"""

from dataclasses import replace

import pytest

from engine import reports
from engine.reports.tables import NONE

from .conftest import NOW, RANGE, at


def report(engine, name, filters=RANGE):
    with engine.sql_engine.connect() as conn:
        return reports.table(conn, name, filters, NOW).rows


def test_opened_and_closed_per_week(engine, dataset):
    # week 1 opened: C1-3, O1-3, F1; closed: C1, C2, C5 (opened before the range), F1. Week 2: C4, F2, F3 / C3, F2, F3.
    assert report(engine, "volume") == [("2026-03-02", 7, 4), ("2026-03-09", 3, 3)]
    complaints = replace(RANGE, process="complaint_handling")
    assert report(engine, "volume", complaints) == [("2026-03-02", 3, 3), ("2026-03-09", 1, 1)]


def test_median_and_p90_time_to_acknowledge_and_resolve(engine, dataset):
    # acknowledge 1, 2, 4, 30 h: median 3, p90 at rank 3.7 = 4 + 0.7 * 26; high 2, 4: p90 at rank 1.9 = 3.8.
    # resolve 24, 72, 144 h: median 72, p90 at rank 2.8 = 72 + 0.8 * 72; high 24, 72: p90 = 24 + 0.9 * 48.
    assert report(engine, "response_times") == [
        ("acknowledge", "all", 4, 3.0, 22.2),
        ("acknowledge", "low", 1, 30.0, 30.0),
        ("acknowledge", "high", 2, 3.0, 3.8),
        ("acknowledge", NONE, 1, 1.0, 1.0),
        ("resolve", "all", 3, 72.0, 129.6),
        ("resolve", "low", 1, 144.0, 144.0),
        ("resolve", "high", 2, 48.0, 67.2),
    ]


def test_sla_breach_rate_by_category_and_severity(engine, dataset):
    assert report(engine, "breach_by_category") == [("billing", 2, 1, 50.0), ("delivery", 2, 1, 50.0)]
    assert report(engine, "breach_by_severity") == [("low", 1, 1, 100.0), ("high", 2, 0, 0.0), (NONE, 1, 1, 100.0)]


def test_escalations_count_cases_and_events_per_week(engine, dataset):
    assert report(engine, "escalations") == [("2026-03-02", 1, 1), ("2026-03-09", 1, 2)]


def test_reopen_rate_counts_reopen_events_among_resolved_cases(engine, dataset):
    assert report(engine, "reopens") == [("2026-03-02", 3, 1, 33.3), ("2026-03-09", 0, 0, None)]


def test_a_second_resolution_counts_as_a_reopen_without_a_reopen_element(engine, rows):
    case = rows.instance("complaint_handling", RANGE.since, None, "CMP-9")
    rows.event(case, "script_ran", "inform_resolution", RANGE.since)
    rows.event(case, "script_ran", "inform_resolution", at(1))
    assert report(engine, "reopens")[0][1:] == (1, 1, 100.0)


def test_satisfaction_trend_and_distribution(engine, dataset):
    assert report(engine, "satisfaction_trend") == [("2026-03-02", 1, 4.0), ("2026-03-09", 2, 3.5)]
    assert report(engine, "satisfaction_distribution") == [(1, 0), (2, 1), (3, 0), (4, 1), (5, 1)]


def test_satisfaction_filters_apply_to_the_case_an_answer_is_about(engine, dataset):
    complaints = replace(RANGE, process="complaint_handling")
    assert report(engine, "satisfaction_trend", complaints) == [("2026-03-02", 1, 4.0), ("2026-03-09", 1, 2.0)]
    billing = replace(RANGE, category="billing")
    assert report(engine, "satisfaction_trend", billing) == [("2026-03-02", 1, 4.0), ("2026-03-09", 0, None)]
    surveys_only = replace(RANGE, process="feedback")
    assert report(engine, "satisfaction_distribution", surveys_only) == [(1, 0), (2, 0), (3, 0), (4, 0), (5, 1)]


def test_onboarding_lead_time_and_compliance_gate_wait(engine, dataset):
    # O1 activated after 7 days; O2 and O3 still wait. Gate: O1 waited 10 + 4 h, O2 6 h; O3's check is open now.
    assert report(engine, "onboarding") == [
        ("start to activation", 1, 2, 168.0, 168.0),
        ("waiting at the compliance gate", 2, 1, 10.0, 13.2),
    ]


def test_work_in_progress_per_lane_now(engine, dataset):
    assert report(engine, "wip") == [("Compliance Officer", 1, 0, 0, 240.0), ("Supervisor", 1, 1, 1, 96.0)]
    onboarding = replace(RANGE, process="client_onboarding")
    assert report(engine, "wip", onboarding) == [("Compliance Officer", 1, 0, 0, 240.0)]


def test_category_filter_narrows_every_case_based_table(engine, dataset):
    billing = replace(RANGE, category="billing")
    assert report(engine, "volume", billing) == [("2026-03-02", 1, 2), ("2026-03-09", 1, 0)]
    assert report(engine, "breach_by_category", billing) == [("billing", 2, 1, 50.0)]
    assert report(engine, "response_times", billing)[0] == ("acknowledge", "all", 2, 1.5, 1.9)
    assert report(engine, "wip", billing) == [("Supervisor", 1, 1, 1, 96.0)]


def test_date_range_selects_cases_by_the_day_they_were_opened(engine, dataset):
    first_week = replace(RANGE, end=RANGE.start.replace(day=8))
    assert report(engine, "breach_by_category", first_week) == [("billing", 1, 0, 0.0), ("delivery", 2, 1, 50.0)]
    assert report(engine, "escalations", first_week) == [("2026-03-02", 1, 1)]


def test_an_empty_range_gives_zero_rows_not_errors(engine, dataset):
    empty = reports.Filters(RANGE.start.replace(year=2025), RANGE.end.replace(year=2025))
    with engine.sql_engine.connect() as conn:
        tables = reports.dashboard(conn, empty, NOW)
    assert tables["response_times"].rows == [("acknowledge", "all", 0, None, None), ("resolve", "all", 0, None, None)]
    assert tables["breach_by_category"].rows == [] and tables["onboarding"].column("cases") == [0, 0]
    assert all(opened == 0 for opened in tables["volume"].column("opened"))
    assert dict((label, value) for label, value, _ in reports.headline(tables))["SLA breach rate"] is None


def test_headline_figures(engine, dataset):
    with engine.sql_engine.connect() as conn:
        figures = {label: value for label, value, _unit in reports.headline(reports.dashboard(conn, RANGE, NOW))}
    assert figures["Cases opened"] == 10 and figures["Cases closed"] == 7
    assert figures["Median time to acknowledge"] == 3.0 and figures["90th percentile time to resolve"] == 129.6
    assert figures["SLA breach rate"] == 50.0 and figures["Reopen rate"] == 33.3
    assert figures["Escalated cases"] == 2 and figures["Average satisfaction"] == pytest.approx(11 / 3, abs=0.01)
    assert figures["Median onboarding lead time"] == 168.0 and figures["Median wait at the compliance gate"] == 10.0
