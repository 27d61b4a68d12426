"""The reports blueprint: managers only, filters checked, every chart's table exported as CSV, monthly summary."""

import csv
import io
from pathlib import Path

import pytest

from engine.reports import TABLES
from webapp.web.views.wording import hours_in_words

from .conftest import at

PROCESSES = Path(__file__).resolve().parents[2] / "processes"

RANGE = {"from": "2026-03-02", "to": "2026-03-15"}


def rows_of(response):
    assert response.status_code == 200, response.text
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def manager(signed_in):
    return signed_in("maria", "Manager")


def test_the_dashboard_shows_figures_charts_and_tables(manager, dataset):
    page = manager.get("/reports/", query_string=RANGE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html
    for title, _columns, _query in TABLES.values():
        assert title in html
    assert html.count('<canvas data-chart="') == len(TABLES)
    assert "vendor/chart.js/chart.umd.min.js" in html and "js/reports.js" in html
    assert 'id="report-data"' in html and "Median time to acknowledge" in html
    assert "50.0 %" in html and "22.2 h" in html and "5.4 days" in html  # breach rate, p90 ack, p90 resolve
    assert 'href="/reports/wip.csv?from=2026-03-02&amp;to=2026-03-15"' in html
    assert manager.get("/static/js/reports.js").status_code == 200
    assert manager.get("/static/vendor/chart.js/chart.umd.min.js").status_code == 200


def test_csv_export_of_a_chart_table(manager, dataset):
    response = manager.get("/reports/breach_by_severity.csv", query_string=RANGE)
    assert rows_of(response) == [["severity", "cases", "breached", "breach_rate_pct"], ["low", "1", "1", "100.0"],
                                 ["high", "2", "0", "0.0"], ["(none)", "1", "1", "100.0"]]
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="breach_by_severity_2026-03-02_2026-03-15.csv"'


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_table_exports_with_its_columns(manager, dataset, name):
    found = rows_of(manager.get(f"/reports/{name}.csv", query_string=RANGE))
    assert tuple(found[0]) == TABLES[name][1] and len(found) > 1


def test_filters_reach_the_export(manager, dataset):
    found = rows_of(manager.get("/reports/volume.csv", query_string={**RANGE, "process": "complaint_handling",
                                                                      "category": "billing"}))
    assert found[1:] == [["2026-03-02", "1", "2"], ["2026-03-09", "1", "0"]]


def test_text_that_a_spreadsheet_would_run_is_defused(manager, rows):
    case = rows.instance("complaint_handling", at(0), None, "CMP-X", category="=HYPERLINK(\"http://x\")")
    rows.event(case, "script_ran", "send_acknowledgement", at(0, 1))
    found = rows_of(manager.get("/reports/breach_by_category.csv", query_string=RANGE))
    assert found[1][0] == "'=HYPERLINK(\"http://x\")"


@pytest.mark.parametrize(("args", "message"), [
    ({"from": "2026-13-01"}, "`from` is not a real date"),
    ({"to": "yesterday"}, "`to` must be a date written as YYYY-MM-DD"),
    ({"from": "2026-03-10", "to": "2026-03-01"}, "must not be after"),
    ({"process": "payroll"}, "there is no process &#39;payroll&#39;"),
])
def test_bad_filters_are_refused_with_a_message(manager, dataset, args, message):
    for url in ("/reports/", "/reports/volume.csv"):
        response = manager.get(url, query_string=args)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)


def test_bad_filters_answer_json_to_a_json_client(manager, dataset):
    response = manager.get("/reports/volume.csv?from=nope", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert "`from` must be a date" in response.get_json()["error"]["message"]


def test_reports_are_for_managers_and_admins(signed_in, app, dataset):
    agent = signed_in("alice", "Customer Care Agent", "Supervisor")
    for url in ("/reports/", "/reports/volume.csv", "/reports/monthly", "/reports/monthly.csv"):
        response = agent.get(url)
        assert response.status_code == 403, url
        assert "Manager role" in response.get_data(as_text=True)
    assert 'href="/reports/"' not in agent.get("/inbox/").get_data(as_text=True)
    admin = signed_in("root", "Admin")
    assert admin.get("/reports/", query_string=RANGE).status_code == 200
    assert 'href="/reports/"' in admin.get("/inbox/").get_data(as_text=True)
    anonymous = app.test_client().get("/reports/volume.csv")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_unknown_table_is_not_found(manager, dataset):
    assert manager.get("/reports/salaries.csv").status_code == 404


def test_monthly_summary_page_and_csv(manager, dataset):
    page = manager.get("/reports/monthly?month=2026-03")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Service summary March 2026" in html
    assert "SLA breach rate by category" in html and "Download CSV" in html
    found = {row[0]: row[1:] for row in rows_of(manager.get("/reports/monthly.csv?month=2026-03"))}
    assert found["metric"] == ["value", "unit"]
    assert found["Cases opened"] == ["10", "cases"] and found["Cases closed"] == ["7", "cases"]
    assert found["SLA breach rate"] == ["50.0", "%"] and found["Median time to acknowledge"] == ["3.0", "hours"]
    assert found["Average satisfaction"] == ["3.67", "of 5"]
    february = {row[0]: row[1] for row in rows_of(manager.get("/reports/monthly.csv?month=2026-02"))}
    assert february["Cases opened"] == "1" and february["SLA breach rate"] == "0.0"  # C5: opened 02-20, no breach
    assert february["Median time to resolve"] == ""


def test_the_monthly_summary_opens_on_this_month_so_far(manager, dataset):
    # The clock says 2 March: March has the dataset's ten cases; last month (February) has one.
    html = manager.get("/reports/monthly").get_data(as_text=True)
    assert "Service summary March 2026 (so far)" in html and "<th scope=\"row\">Cases opened</th><td>10</td>" in html
    assert 'href="/reports/monthly?month=2026-02"' in html and "Next month" not in html
    february = manager.get("/reports/monthly?month=2026-02").get_data(as_text=True)
    assert "Service summary February 2026<" in february and 'href="/reports/monthly?month=2026-03"' in february


def test_category_codes_read_as_the_forms_labels(manager, dataset, engine):
    engine.deploy(PROCESSES / "complaint_handling.bpmn", by="maria")
    html = manager.get("/reports/", query_string=RANGE).get_data(as_text=True)
    assert '<option value="billing" >Billing and pricing</option>' in html
    assert "<td>Delivery and logistics</td>" in html and "<td>delivery</td>" not in html
    export = rows_of(manager.get("/reports/breach_by_category.csv", query_string=RANGE))
    assert "delivery" in [row[0] for row in export]  # exports keep the codes


def test_measured_times_read_at_their_scale():
    assert [hours_in_words(h) for h in (None, 0, 0.004, 0.25, 3, 47.9, 72)] == [
        "—", "under 1 min", "under 1 min", "15 min", "3.0 h", "47.9 h", "3.0 days"]


def test_monthly_summary_refuses_a_bad_month(manager):
    response = manager.get("/reports/monthly?month=2026-3")
    assert response.status_code == 400 and "`month` must be written as YYYY-MM" in response.get_data(as_text=True)
