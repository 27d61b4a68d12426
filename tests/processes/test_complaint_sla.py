"""complaint_handling's SLA (processes/complaint_handling.sla.json): clocks in business time on za-office, the
ladder agent -> supervisor -> manager with a deadline at every level, waiting on the client, escalate now,
the client's agreed targets and the sweep's tick. Times are SAST; the manual clock drives everything."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine import ManualClock
from engine.errors import InstanceNotRunning, InvalidInput
from engine.sla import due, elapsed, parse_duration, shipped_calendars
from engine.sla.models import SlaClock, SlaEvent
from tests.processes.flow import Flow, advance_and_fire

SAST = ZoneInfo("Africa/Johannesburg")
ZA = shipped_calendars()["za-office"]
SUPERVISORS = "care-supervisors@clientflow.example"
MANAGER = "customer-service-manager@clientflow.example"
HEAD = "head-of-customer-service@clientflow.example"
COMPLAINT = {"client_name": "Thandi Mokoena", "client_email": "thandi@example.com", "channel": "hotline",
             "category": "delivery", "description": "The concentrate delivery was 12 days late."}
RESOLVED = {"findings": "The carrier lost the load sheet at the weighbridge.",
            "resolution": "We refunded the transport fee and changed carrier for your route."}


def sast(*args):
    return datetime(*args, tzinfo=SAST)


@pytest.fixture
def clock():
    return ManualClock(sast(2027, 2, 1, 9, 0))  # Monday; February 2027 has no public holiday


@pytest.fixture
def complaint(engine, shipped, staff):
    return Flow(engine, engine.start("complaint_handling", COMPLAINT, by="agent").id)


def register(flow, severity="medium", **extra):
    flow.complete("register", {"severity": severity, "handler_email": "agent@example.com", **extra}, by="agent")


def clocks(flow):
    with flow.engine.read_session() as session:
        return {c.target: c for c in session.scalars(select(SlaClock).where(SlaClock.instance_id == flow.id))}


def sla_events(flow, target=None):
    with flow.engine.read_session() as session:
        rows = session.scalars(select(SlaEvent).where(SlaEvent.instance_id == flow.id).order_by(SlaEvent.id))
        return [(e.target, e.kind, e.reason) for e in rows if target is None or e.target == target]


def local(value):
    return value.astimezone(SAST).replace(tzinfo=None)


def move_to(flow, clock, when) -> int:
    return advance_and_fire(flow.engine, clock, seconds=(when - clock.now()).total_seconds())


def audit_kinds(flow):
    return [e.kind for e in flow.engine.events(flow.id)]


def test_clocks_start_at_receipt_and_follow_the_assessed_severity(complaint, clock):
    rows = clocks(complaint)
    assert sorted(rows) == ["acknowledge", "first_response", "resolve"]
    assert local(rows["acknowledge"].due_at) == datetime(2027, 2, 2, 9, 0)  # one business day
    assert local(rows["resolve"].due_at) == datetime(2027, 2, 15, 9, 0)  # not assessed yet: the low track, P10D
    clock.advance(hours=2)
    register(complaint, "high")
    rows = clocks(complaint)
    assert rows["acknowledge"].state == "met"
    # retargeted to three business days, keeping the two hours already used
    assert local(rows["resolve"].due_at) == datetime(2027, 2, 4, 9, 0)
    assert local(rows["resolve"].due_at) == local(complaint.pending_timers()["sla_breached"]) - timedelta(hours=2)
    assert ("resolve", "recomputed", None) in sla_events(complaint)
    assert rows["resolve"].level == "agent" and rows["resolve"].urgent is False


def test_logged_friday_afternoon_before_the_day_of_reconciliation(engine, shipped, staff, clock):
    clock.set(sast(2026, 12, 11, 15, 0))  # Friday 15:00; Wednesday 16 December is a public holiday
    flow = Flow(engine, engine.start("complaint_handling", COMPLAINT, by="agent").id)
    assert local(flow.pending_timers()["acknowledgement_overdue"]) == datetime(2026, 12, 14, 15, 0)  # Monday
    register(flow, "medium")
    # five business days: 14, 15, 17, 18 December and Monday 21 December
    assert local(clocks(flow)["resolve"].due_at) == datetime(2026, 12, 21, 15, 0)
    assert local(flow.task("investigate").due_at) == datetime(2026, 12, 21, 15, 0)


def test_safety_complaint_is_urgent_on_the_fastest_track(complaint, clock):
    register(complaint, "low", category="safety_environment")
    rows = clocks(complaint)
    assert local(rows["resolve"].due_at) == datetime(2027, 2, 1, 17, 0)  # 8 business hours
    assert rows["resolve"].urgent is True


def test_full_ladder_agent_supervisor_manager_each_with_a_deadline(complaint, clock):
    register(complaint, "critical")
    breach = sast(2027, 2, 3, 15, 0)  # 24 business hours after Monday 09:00
    assert move_to(complaint, clock, breach) == 2  # the warning and the breach
    row = clocks(complaint)["resolve"]
    assert (row.level, row.escalated, row.breached) == ("supervisor", True, False)  # due now: not late yet
    clock.advance(minutes=1)
    assert complaint.engine.tick_slas() == 2  # first response and resolve: one minute late
    row = clocks(complaint)["resolve"]
    assert (row.level, row.escalated, row.breached) == ("supervisor", True, True)
    assert complaint.elements() == ["supervisor_resolve"]
    supervisor_deadline = sast(2027, 2, 4, 14, 0)  # the supervisor has 8 business hours
    assert complaint.task("supervisor_resolve").due_at == supervisor_deadline
    assert move_to(complaint, clock, supervisor_deadline) == 1
    assert complaint.elements() == ["manager_resolve"]
    assert clocks(complaint)["resolve"].level == "manager"
    manager_deadline = sast(2027, 2, 5, 14, 0)  # and the manager one business day
    assert move_to(complaint, clock, manager_deadline - timedelta(minutes=1)) == 0
    assert move_to(complaint, clock, manager_deadline) == 1
    assert complaint.elements() == ["manager_resolve"]  # the manager keeps the case; the head is told
    assert [to for _, to, _ in complaint.mails("escalation")] == [SUPERVISORS, MANAGER, HEAD]
    complaint.complete("manager_resolve", RESOLVED, by="manager")
    complaint.complete("review_decision", {"review_outcome": "approve"}, by="supervisor")
    resolve = [e for e in sla_events(complaint, "resolve") if e[1] in ("breached", "met")]
    assert [kind for _, kind, _ in resolve] == ["breached", "breached"]  # recorded at the due time, then final


def test_waiting_on_client_pauses_clocks_and_timers_for_exactly_the_paused_time(complaint, clock):
    register(complaint, "medium")
    due_before = clocks(complaint)["resolve"].due_at
    timers_before = complaint.pending_timers()
    clock.advance(hours=3)  # Monday 12:00
    complaint.engine.wait_on_client(complaint.id, "Asked for the delivery note number.", by="agent")
    row = clocks(complaint)["resolve"]
    assert (row.state, row.due_at, row.paused_reason) == ("paused", None, "waiting on client")
    # two calendar days on hold: nothing fires, however long it lasts
    assert advance_and_fire(complaint.engine, clock, days=2) == 0
    complaint.engine.client_replied(complaint.id, by="agent", note="Delivery note DN-4471.")
    paused = elapsed(ZA, sast(2027, 2, 1, 12, 0), clock.now())
    assert paused == timedelta(hours=18)  # two working days
    row = clocks(complaint)["resolve"]
    assert row.state == "running"
    assert local(row.due_at) == local(due(ZA, due_before.replace(tzinfo=row.due_at.tzinfo or SAST), paused))
    after = complaint.pending_timers()
    for element in ("sla_warning", "sla_breached"):
        assert after[element] == due(ZA, timers_before[element], paused)
    resumed = [e for e in sla_events(complaint) if e[1] == "resumed"]
    assert resumed and all(reason == "waiting on client" for _, _, reason in resumed)
    assert {"sla_held", "sla_released"} <= set(audit_kinds(complaint))


def test_hold_refuses_bad_requests_and_changes_nothing(complaint, clock):
    register(complaint, "medium")
    before = complaint.snapshot()
    with pytest.raises(InvalidInput, match="reason"):
        complaint.engine.wait_on_client(complaint.id, "  ", by="agent")
    with pytest.raises(InvalidInput, match="not on hold"):
        complaint.engine.client_replied(complaint.id, by="agent")
    assert complaint.snapshot() == before
    complaint.engine.wait_on_client(complaint.id, "Asked for photos.", by="agent")
    with pytest.raises(InvalidInput, match="already on hold"):
        complaint.engine.wait_on_client(complaint.id, "Again.", by="agent")


def test_escalate_now_refers_upward_with_a_reason_and_audits_it(complaint, clock):
    register(complaint, "low")
    clock.advance(hours=1)
    event = complaint.engine.escalate_now(complaint.id, "The client threatens legal action.", by="agent")
    assert event.detail["level"] == "supervisor"
    assert datetime.fromisoformat(event.detail["deadline"]) == due(ZA, clock.now(), parse_duration("P3D"))
    assert complaint.elements() == ["supervisor_resolve"]
    row = clocks(complaint)["resolve"]
    assert (row.level, row.escalated, row.state) == ("supervisor", True, "running")
    [(_, to, payload)] = complaint.mails("escalation")
    assert to == SUPERVISORS and payload["reason"] == "referred: The client threatens legal action."
    referred = [e for e in complaint.engine.events(complaint.id) if e.kind == "sla_referred"]
    assert referred[0].detail["reason"] == "The client threatens legal action." and referred[0].actor == "agent"
    assert ("resolve", "warned", "referral: The client threatens legal action.") in sla_events(complaint)
    complaint.engine.escalate_now(complaint.id, "Needs a refund above my limit.", by="supervisor")
    assert complaint.elements() == ["manager_resolve"]
    assert clocks(complaint)["resolve"].level == "manager"
    with pytest.raises(InvalidInput, match="top of ladder"):
        complaint.engine.escalate_now(complaint.id, "Further still.", by="manager")


def test_escalate_now_refuses_without_a_reason_or_on_a_closed_case(complaint, clock):
    register(complaint, "low")
    before = complaint.snapshot()
    with pytest.raises(InvalidInput, match="reason"):
        complaint.engine.escalate_now(complaint.id, "", by="agent")
    with pytest.raises(InvalidInput, match="no 'next_update' clock"):
        complaint.engine.escalate_now(complaint.id, "Why not.", by="agent", target="next_update")
    assert complaint.snapshot() == before and complaint.elements() == ["investigate"]
    complaint.engine.cancel(complaint.id, by="manager", reason="duplicate")
    with pytest.raises(InstanceNotRunning):
        complaint.engine.escalate_now(complaint.id, "Late.", by="agent")


def test_the_clients_agreed_targets_override_the_policy(engine, shipped, staff, clock):
    engine.clients.create({"name": "Mokoena Logistics", "email": "thandi@example.com", "sla_response_hours": 4,
                           "sla_resolution_days": 2}, by="rm")
    flow = Flow(engine, engine.start("complaint_handling", COMPLAINT, by="agent").id)
    register(flow, "low")  # the policy says ten business days; the client agreed two
    rows = clocks(flow)
    assert local(rows["resolve"].due_at) == datetime(2027, 2, 3, 9, 0)
    assert local(rows["first_response"].due_at) == datetime(2027, 2, 1, 13, 0)
    assert "client agreement" in rows["resolve"].clock["target"]["rule"]


def test_the_tick_records_a_breach_without_a_save(complaint, clock):
    register(complaint, "medium")
    clock.set(sast(2027, 2, 8, 10, 0))  # an hour past the due time; no timer fired, no one saved the case
    assert clocks(complaint)["resolve"].breached is False
    assert complaint.engine.tick_slas() >= 1
    row = clocks(complaint)["resolve"]
    assert (row.breached, row.level, row.escalated) == (True, "supervisor", True)
    breach = [e for e in sla_events(complaint, "resolve") if e[1] == "breached"]
    assert len(breach) == 1
    assert complaint.engine.tick_slas() == 0  # recorded once
    assert len([e for e in sla_events(complaint, "resolve") if e[1] == "breached"]) == 1
