"""The inbox's SLA cell (breached minutes, escalated, paused, the next due time in business time) from one query
over the page's clock rows, and the `?sla=overdue|breached|escalated|paused` filter. Times are SAST."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from engine import ManualClock, reports
from engine.casework.inbox import InboxQuery
from engine.errors import InvalidInput
from tests.processes.flow import PROCESSES

SAST = ZoneInfo("Africa/Johannesburg")


@pytest.fixture
def clock():
    return ManualClock(datetime(2027, 2, 1, 9, 0, tzinfo=SAST))  # Monday; no public holiday that month


@pytest.fixture
def cases(engine, make_user, clock):
    """Three registered complaints: `late` (high: resolve due in P3D), `held` and `referred` (low: P10D)."""
    make_user("agent", "Customer Care Agent", email="agent@example.com")
    make_user("lead", "Customer Care Agent", "Supervisor")
    engine.deploy_each(PROCESSES, by="process-owner")
    ids = {}
    for name, severity in (("late", "high"), ("held", "low"), ("referred", "low")):
        instance = engine.start("complaint_handling", {
            "client_name": f"Client {name}", "client_email": f"{name}@example.com", "channel": "hotline",
            "category": "delivery", "description": "The delivery was late."}, by="agent")
        [task] = engine.tasks(instance_id=instance.id)
        engine.complete(task.id, {"severity": severity, "handler_email": "agent@example.com"}, by="agent")
        ids[name] = instance.id
    engine.wait_on_client(ids["held"], "Asked for the delivery note.", by="agent")
    engine.escalate_now(ids["referred"], "The client threatens legal action.", by="agent")
    return ids


def rows(client, query=""):
    """{client label: text of the due cell} of the lead's group inbox."""
    page = client.get(f"/inbox/?view=group{query}").get_data(as_text=True)
    cells = {}
    for row in re.findall(r"<tr[ >].*?</tr>", page, flags=re.S):
        label = re.search(r"Client (\w+)", row)
        due = re.search(r'<td data-label="Due">(.*?)</td>', row, flags=re.S)
        if label and due:
            cells[label.group(1)] = " ".join(re.sub(r"<[^>]+>", " ", due.group(1)).split())
    return cells


def test_the_due_cell_shows_each_cases_sla(engine, cases, clock, signed_in):
    clock.advance(days=3, hours=1)  # Thursday 10:00: `late` is one business hour past its P3D target
    cells = rows(signed_in("lead"))
    assert cells["late"].startswith("breached 1 h")
    assert cells["held"].startswith("paused")
    assert cells["referred"].startswith("escalated")
    # the next running due time, with the business time left: P10D (90 h) from Monday 09:00, 28 h used
    assert "2027-02-15 09:00 +02:00" in cells["referred"] and "62 h business time left" in cells["referred"]


def test_one_query_reads_the_clocks_of_the_whole_page(engine, cases, signed_in):
    client = signed_in("lead")
    statements = []

    def count(conn, cursor, statement, *args):
        if "sla_clock" in statement:
            statements.append(statement)
    event.listen(engine.sql_engine, "before_cursor_execute", count)
    try:
        assert len(rows(client)) == 3
    finally:
        event.remove(engine.sql_engine, "before_cursor_execute", count)
    assert len(statements) == 1 and " IN (" in statements[0]


def test_the_sla_filter(engine, cases, clock, signed_in):
    client = signed_in("lead")
    assert set(rows(client)) == {"late", "held", "referred"}
    assert set(rows(client, "&sla=paused")) == {"held"}
    assert set(rows(client, "&sla=escalated")) == {"referred"}
    assert set(rows(client, "&sla=overdue")) == set() and set(rows(client, "&sla=breached")) == set()
    clock.advance(days=3, hours=1)
    client = signed_in("lead")
    assert set(rows(client, "&sla=overdue")) == {"late"}
    assert set(rows(client, "&sla=breached")) == set()  # no breach recorded until the sweep's tick
    engine.tick_slas()
    assert set(rows(client, "&sla=breached")) == {"late"}
    assert set(rows(client, "&sla=nonsense")) == {"late", "held", "referred"}  # unknown values fall back
    page = client.get("/inbox/?view=group&sla=paused").get_data(as_text=True)
    assert '<option value="paused" selected>' in page


def test_the_query_refuses_an_unknown_sla_filter_or_one_without_now():
    with pytest.raises(InvalidInput, match="sla must be one of: overdue, breached, escalated, paused"):
        InboxQuery(sla="late", now=datetime(2027, 2, 1, tzinfo=SAST))
    with pytest.raises(InvalidInput, match="needs the time"):
        InboxQuery(sla="paused")


@pytest.fixture
def staggered(engine, make_user, clock):
    """Two high-severity complaints (resolve P3D from receipt): `first` received Monday 09:00, `second` Tuesday
    09:00; `second` registered at once, `first` an hour later, so the tasks' own timers (from registration) run
    in the other order than the cases' SLA clocks (from receipt)."""
    make_user("agent", "Customer Care Agent", email="agent@example.com")
    make_user("lead", "Customer Care Agent", "Supervisor")
    engine.deploy_each(PROCESSES, by="process-owner")
    ids = {}

    def receive(name):
        ids[name] = engine.start("complaint_handling", {
            "client_name": f"Client {name}", "client_email": f"{name}@example.com", "channel": "hotline",
            "category": "delivery", "description": "The delivery was late."}, by="agent").id

    def register(name):
        [task] = engine.tasks(instance_id=ids[name])
        engine.complete(task.id, {"severity": "high", "handler_email": "agent@example.com"}, by="agent")

    receive("first")
    clock.advance(days=1)
    receive("second")
    register("second")
    clock.advance(hours=1)
    register("first")
    return ids


def test_sort_by_due_uses_the_cases_sla_due_in_business_time(engine, staggered, signed_in):
    client = signed_in("lead")
    assert list(rows(client, "&sort=due")) == ["first", "second"]  # SLA: Thursday 09:00, Friday 09:00
    assert list(rows(client, "&sort=-due")) == ["second", "first"]
    [task] = engine.tasks(instance_id=staggered["first"])
    resolve = {c.target: c for c in engine.sla_panel(staggered["first"]).clocks}["resolve"]
    assert resolve.due_at.astimezone(SAST) == datetime(2027, 2, 4, 9, 0, tzinfo=SAST)
    assert task.due_at is None or task.due_at > resolve.due_at  # the task's own timer runs later
    # On hold the case has no running clock: its tasks fall back to their own due time, the last here.
    engine.wait_on_client(staggered["first"], "Asked for the delivery note.", by="agent")
    assert list(rows(client, "&sort=due")) == ["second", "first"]


def test_the_wip_reports_overdue_count_comes_from_the_sla_clocks(engine, staggered, clock):
    filters = reports.Filters(datetime(2027, 2, 1).date(), datetime(2027, 2, 28).date(), None)

    def overdue():
        with engine.sql_engine.connect() as conn:
            return sum(row[3] for row in reports.table(conn, "wip", filters, clock.now()).rows)

    assert overdue() == 0
    clock.set(datetime(2027, 2, 4, 12, 0, tzinfo=SAST))  # `first` is 3 business hours past its SLA target
    assert overdue() == 1
    engine.wait_on_client(staggered["first"], "Asked for the delivery note.", by="agent")
    assert overdue() == 0  # paused: not overdue while it waits on the client


def test_a_saved_view_keeps_the_sla_filter(engine, cases, signed_in, text):
    client = signed_in("lead")
    saved = client.post("/inbox/views", data={"name": "On hold", "view": "group", "sla": "paused"})
    assert saved.status_code == 303 and "sla=paused" in saved.headers["Location"]
    [view] = engine.saved_views("lead")
    assert view.params == {"view": "group", "sla": "paused"}
    page = client.get("/inbox/?view=group").get_data(as_text=True)
    assert "sla=paused" in page  # the saved view's link
    assert set(rows(client, "&sla=paused")) == {"held"}
    refused = client.post("/inbox/views", data={"name": "Odd", "view": "group", "sla": "late"},
                          follow_redirects=True)
    assert "a saved view&#39;s SLA filter must be one of" in refused.get_data(as_text=True) or \
        "SLA filter must be one of" in text(refused)
    assert [v.name for v in engine.saved_views("lead")] == ["On hold"]
