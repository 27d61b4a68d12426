"""The SLA report: per target, priority and category, attainment % and minutes over target taken from the clocks
themselves, so the report's breach minutes equal the clock's own figure; and its CSV download."""

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from engine import ManualClock
from engine.reports import Filters, table
from tests.processes.flow import PROCESSES
from tests.support import bearer_headers

SAST = ZoneInfo("Africa/Johannesburg")
FEBRUARY = Filters(date(2027, 2, 1), date(2027, 2, 28))
RESOLVED = {"findings": "The carrier lost the load sheet at the weighbridge.",
            "resolution": "We refunded the transport fee and changed carrier for your route."}


@pytest.fixture
def clock():
    return ManualClock(datetime(2027, 2, 1, 9, 0, tzinfo=SAST))  # Monday; no public holiday that month


def start(engine, name, category="delivery"):
    instance = engine.start("complaint_handling", {
        "client_name": name, "client_email": "client@example.com", "channel": "hotline", "category": category,
        "description": "The delivery was late."}, by="agent")
    return instance.id


def work(engine, instance_id, element_id, data):
    [task] = [t for t in engine.tasks(instance_id=instance_id) if t.element_id == element_id]
    engine.complete(task.id, data, by="agent")
    if element_id == "investigate":  # the decision reaches the client once someone not involved approves it
        [review] = [t for t in engine.tasks(instance_id=instance_id) if t.element_id == "review_decision"]
        engine.complete(review.id, {"review_outcome": "approve"}, by="reviewer")


@pytest.fixture
def cases(engine, make_user, clock):
    """`late`: high, resolved Thursday 10:30, 90 business minutes after its P3D targets; `open`: high, still
    running and 90 minutes over at the report's now; `quick`: low, resolved on Monday, in time."""
    make_user("agent", "Customer Care Agent", email="agent@example.com")
    make_user("reviewer", "Supervisor")
    engine.deploy_each(PROCESSES, by="process-owner")
    ids = {name: start(engine, name) for name in ("late", "open", "quick")}
    for name, severity in (("late", "high"), ("open", "high"), ("quick", "low")):
        work(engine, ids[name], "register", {"severity": severity, "handler_email": "agent@example.com"})
    clock.advance(hours=2)
    work(engine, ids["quick"], "investigate", RESOLVED)
    clock.set(datetime(2027, 2, 4, 10, 30, tzinfo=SAST))
    work(engine, ids["late"], "investigate", RESOLVED)
    return ids


def rows(engine, clock):
    with engine.sql_engine.connect() as conn:
        report = table(conn, "sla_targets", FEBRUARY, clock.now())
    return {(r[0], r[1], r[2]): dict(zip(report.columns, r, strict=True)) for r in report.rows}


def test_breach_minutes_equal_the_clocks_own_figure(engine, cases, clock):
    clocks = {name: {c.target: c for c in engine.sla_panel(instance_id).clocks}
              for name, instance_id in cases.items()}
    assert clocks["late"]["resolve"].state == "breached" and clocks["late"]["resolve"].over_minutes == 90
    assert clocks["open"]["resolve"].state == "running" and clocks["open"]["resolve"].over_minutes == 90
    report = rows(engine, clock)
    high = report[("resolve", "high", "delivery")]
    assert high["breach_minutes"] == clocks["late"]["resolve"].over_minutes + clocks["open"]["resolve"].over_minutes
    assert (high["clocks"], high["met"], high["breached"], high["open"], high["attainment_pct"]) == (2, 0, 2, 0, 0.0)
    low = report[("resolve", "low", "delivery")]
    assert (low["met"], low["breached"], low["attainment_pct"], low["breach_minutes"]) == (1, 0, 100.0, 0)
    ack = report[("acknowledge", "high", "delivery")]
    assert (ack["met"], ack["attainment_pct"], ack["breach_minutes"]) == (2, 100.0, 0)
    first = [key[0] for key in report]
    assert first.index("acknowledge") < first.index("first_response") < first.index("resolve")
    clock.advance(hours=1)  # the running clock's minutes grow with business time; the stopped one's do not
    assert rows(engine, clock)[("resolve", "high", "delivery")]["breach_minutes"] == 90 + 150


def test_the_report_follows_the_filters(engine, cases, clock):
    with engine.sql_engine.connect() as conn:
        other = table(conn, "sla_targets", Filters(date(2027, 2, 1), date(2027, 2, 28), category="billing"),
                      clock.now())
    assert other.rows == []


def test_csv_download(app, engine, cases, make_user):
    make_user("mia", "Manager")
    client = app.test_client()
    assert client.post("/login", data={"username": "mia", "password": "tidal-lantern-orchard-42"}).status_code == 302
    response = client.get("/reports/sla_targets.csv?from=2027-02-01&to=2027-02-28")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="sla_targets_2027-02-01_2027-02-28.csv"' in response.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert lines[0] == ["target", "priority", "category", "clocks", "met", "breached", "open", "attainment_pct",
                        "breach_minutes"]
    assert ["resolve", "high", "delivery", "2", "0", "2", "0", "0.0", "180"] in lines
    page = client.get("/reports/?from=2027-02-01&to=2027-02-28").get_data(as_text=True)
    assert 'id="table-sla_targets"' in page


def test_the_report_over_hand_written_clock_rows(engine, dataset):
    from tests.reports.conftest import NOW, RANGE

    with engine.sql_engine.connect() as conn:
        report = table(conn, "sla_targets", RANGE, NOW)
    assert report.rows == [("resolve", "low", "delivery", 1, 0, 1, 0, 0.0, 1440),      # stopped a day late
                           ("resolve", "(none)", "billing", 1, 0, 1, 0, 0.0, 1440)]    # still running, a day over


def by(engine, clock, name):
    with engine.sql_engine.connect() as conn:
        report = table(conn, name, FEBRUARY, clock.now())
    return {(r[0], r[1]): dict(zip(report.columns, r, strict=True)) for r in report.rows}


def test_per_team_and_per_agent_with_the_clocks_own_minutes(engine, cases, clock, make_user):
    clocks = {name: {c.target: c for c in engine.sla_panel(instance_id).clocks}
              for name, instance_id in cases.items()}
    over = clocks["late"]["resolve"].over_minutes + clocks["open"]["resolve"].over_minutes
    assert over == 180
    teams = by(engine, clock, "sla_teams")
    # `late` and `quick` were met by the supervisor's approval of the decision, the step that told the client;
    # `open` is still being investigated in the agents' lane.
    review = teams[("Supervisor", "resolve")]
    assert (review["clocks"], review["met"], review["breached"], review["breach_minutes"]) == \
        (2, 1, 1, clocks["late"]["resolve"].over_minutes)
    assert review["attainment_pct"] == 50.0
    care = teams[("Customer Care Agent", "resolve")]
    assert (care["clocks"], care["breached"], care["breach_minutes"]) == (1, 1, clocks["open"]["resolve"].over_minutes)
    assert review["breach_minutes"] + care["breach_minutes"] == over  # the same total as per target
    assert teams[("Customer Care Agent", "acknowledge")]["met"] == 3
    agents = by(engine, clock, "sla_agents")
    mine = agents[("reviewer", "resolve")]
    assert (mine["met"], mine["breached"], mine["breach_minutes"]) == (1, 1, clocks["late"]["resolve"].over_minutes)
    nobody = agents[("(unassigned)", "resolve")]  # nobody has claimed `open`'s investigation
    assert (nobody["breached"], nobody["breach_minutes"]) == (1, clocks["open"]["resolve"].over_minutes)
    [task] = engine.tasks(instance_id=cases["open"])
    make_user("ben", "Customer Care Agent")
    engine.assign(task.id, "ben", by="ben")
    agents = by(engine, clock, "sla_agents")
    assert agents[("ben", "resolve")]["breach_minutes"] == 90 and ("(unassigned)", "resolve") not in agents


def test_the_api_gives_report_tables_to_managers(engine, cases, client, make_user):
    make_user("mia", "Manager")

    def token_for(username):
        return bearer_headers(engine, username)

    answer = client.get("/api/v1/reports/sla_teams?from=2027-02-01&to=2027-02-28", headers=token_for("mia"))
    assert answer.status_code == 200, answer.json
    assert answer.json["columns"][:2] == ["team", "target"] and answer.json["from"] == "2027-02-01"
    assert ["Supervisor", "resolve", 2, 1, 1, 0, 50.0, 90] in answer.json["rows"]
    assert client.get("/api/v1/reports/sla_teams", headers=token_for("agent")).status_code == 403
    missing = client.get("/api/v1/reports/nonsense", headers=token_for("mia"))
    assert missing.status_code == 404 and "sla_agents" in missing.json["error"]["message"]
    bad = client.get("/api/v1/reports/sla_agents?from=2027-03-01&to=2027-02-01", headers=token_for("mia"))
    assert bad.status_code == 400 and "must not be after" in bad.json["error"]["message"]


def test_team_and_agent_csv(app, engine, cases, make_user):
    make_user("mia", "Manager")
    client = app.test_client()
    assert client.post("/login", data={"username": "mia", "password": "tidal-lantern-orchard-42"}).status_code == 302
    lines = list(csv.reader(io.StringIO(client.get("/reports/sla_agents.csv?from=2027-02-01&to=2027-02-28")
                                        .get_data(as_text=True))))
    assert lines[0] == ["agent", "target", "clocks", "met", "breached", "open", "attainment_pct", "breach_minutes"]
    assert ["reviewer", "resolve", "2", "1", "1", "0", "50.0", "90"] in lines
    page = client.get("/reports/?from=2027-02-01&to=2027-02-28").get_data(as_text=True)
    assert 'id="table-sla_teams"' in page and 'id="table-sla_agents"' in page
