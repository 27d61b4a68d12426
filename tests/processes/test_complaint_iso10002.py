"""complaint_handling's ISO 10002 steps: acknowledgement at receipt, safety-first triage before registration, the
decision reviewed by someone not involved in the investigation, and the client's "not resolved" (the portal's
message) reopening the case with the resolution clock's used time kept. Times are SAST on a manual clock."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine import ManualClock, portal
from engine.errors import InvalidTaskData, MessageNotCorrelated, NotAllowed
from engine.sla import due, parse_duration, shipped_calendars
from engine.sla.models import SlaClock, SlaEvent
from engine.studio.lint import lint
from tests.processes.flow import PROCESSES, Flow, advance_and_fire

SAST = ZoneInfo("Africa/Johannesburg")
ZA = shipped_calendars()["za-office"]
SUPERVISORS = "care-supervisors@clientflow.example"
MANAGER = "customer-service-manager@clientflow.example"
COMPLAINT = {"client_name": "Thandi Mokoena", "client_email": "thandi@example.com", "channel": "hotline",
             "category": "delivery", "description": "The concentrate delivery was 12 days late."}
RESOLVED = {"findings": "The carrier lost the load sheet at the weighbridge.",
            "resolution": "We refunded the transport fee and changed carrier for your route."}
REGISTER = {"severity": "medium", "handler_email": "agent@example.com"}


@pytest.fixture
def clock():
    return ManualClock(datetime(2027, 2, 1, 9, 0, tzinfo=SAST))  # a Monday in a month without public holidays


@pytest.fixture
def start(engine, shipped, staff):
    def start(**changes) -> Flow:
        return Flow(engine, engine.start("complaint_handling", {**COMPLAINT, **changes}, by="agent").id)
    return start


def resolved_by_lead(start, make_user) -> Flow:
    """A complaint investigated by a team lead who holds both the agent's and the supervisor's role."""
    make_user("lead", "Customer Care Agent", "Supervisor")
    flow = start()
    flow.complete("register", REGISTER, by="agent")
    flow.complete("investigate", RESOLVED, by="lead")
    return flow


def offered_to(flow: Flow, username: str) -> list[str]:
    flow.fresh()
    return [t.element_id for t in flow.engine.tasks(user=username) if t.instance_id == flow.id]


def resolve_clock(flow: Flow) -> SlaClock:
    with flow.engine.read_session() as session:
        return session.scalars(select(SlaClock).where(SlaClock.instance_id == flow.id,
                                                      SlaClock.target == "resolve")).one()


# -- acknowledgement at receipt ---------------------------------------------------------------------------------

def test_the_client_is_acknowledged_at_receipt_with_the_reference_before_anyone_registers_it(start):
    flow = start(channel="email")
    assert flow.elements() == ["register"]
    [(template, to, payload)] = flow.mails()
    assert (template, to) == ("complaint_acknowledgement", "thandi@example.com")
    assert payload["reference"] == flow.engine.instance(flow.id).reference and payload["channel"] == "email"
    assert flow.data["stage"] == "received"


# -- triage before registration ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "reason"), [
    ({"category": "safety_environment"}, "the complaint concerns safety, health or the environment"),
    ({"category": "delivery", "safety_risk": True}, "the client reports a risk to health, safety or the environment"),
    ({"category": None, "safety_risk": True}, "the client reports a risk to health, safety or the environment"),
])
def test_safety_complaints_go_to_a_supervisor_at_once_before_ordinary_registration(start, clock, changes, reason):
    flow = start(**changes)
    assert flow.elements() == ["urgent_register"]  # never offered to the ordinary registration queue
    task = flow.task("urgent_register")
    assert task.lane == "Supervisor"
    assert task.due_at == clock.now() + timedelta(hours=2)
    assert (flow.data["triage"], flow.data["triage_reason"], flow.data["stage"]) == ("urgent", reason, "urgent")
    [(_, to, alert)] = flow.mails("escalation")
    assert to == SUPERVISORS and alert["reason"] == f"urgent: {reason}"
    assert flow.mails("complaint_acknowledgement")  # the client is acknowledged on the urgent path too
    with pytest.raises(NotAllowed):
        flow.complete("urgent_register", REGISTER, by="agent")
    flow.complete("urgent_register", {**REGISTER, "severity": "critical", "category": changes["category"] or "other"},
                  by="supervisor")
    assert flow.elements() == ["investigate"]
    assert flow.mails("status_update")[-1][2]["stage"] == "registered"


@pytest.mark.parametrize("changes", [{}, {"safety_risk": False}, {"category": None}])
def test_ordinary_complaints_go_to_registration_without_an_alert(start, changes):
    flow = start(**changes)
    assert flow.elements() == ["register"]
    assert flow.data["triage"] == "standard"
    assert flow.mails("escalation") == []


def test_an_urgent_complaint_not_registered_in_two_hours_goes_to_a_manager_nights_and_weekends_too(start, clock):
    clock.set(datetime(2027, 2, 6, 22, 0, tzinfo=SAST))  # Saturday night: the urgent deadline is calendar time
    flow = start(safety_risk=True)
    assert advance_and_fire(flow.engine, clock, hours=1, minutes=59) == 0
    assert flow.elements() == ["urgent_register"]
    assert advance_and_fire(flow.engine, clock, minutes=1) == 1
    assert flow.elements() == ["manager_register"]
    assert flow.task("manager_register").lane == "Manager"
    assert [to for _, to, _ in flow.mails("escalation")] == [SUPERVISORS, MANAGER]
    assert "not registered within two hours" in flow.mails("escalation")[-1][2]["reason"]
    flow.complete("manager_register", REGISTER, by="manager")
    assert flow.elements() == ["investigate"]


# -- independent review of the decision ----------------------------------------------------------------------------

def test_nothing_reaches_the_client_until_someone_not_involved_approves_the_decision(start, make_user):
    flow = resolved_by_lead(start, make_user)
    assert flow.elements() == ["review_decision"]
    assert [m[2]["stage"] for m in flow.mails("status_update")] == ["registered"]
    assert flow.task("review_decision").lane == "Supervisor"
    # the investigator is not offered the review, and can neither claim nor complete it; a colleague can
    assert offered_to(flow, "lead") == [] and offered_to(flow, "supervisor") == ["review_decision"]
    with pytest.raises(NotAllowed, match="separation of duties: lead did “Investigate and resolve”"):
        flow.engine.claim(flow.task("review_decision").id, by="lead")
    with pytest.raises(NotAllowed, match="“Review the decision” needs someone else"):
        flow.complete("review_decision", {"review_outcome": "approve"}, by="lead")
    refused = [e for e in flow.engine.events(flow.id) if e.kind == "task_refused"]
    assert [(e.actor, e.detail["attempt"]) for e in refused] == [("lead", "claim"), ("lead", "complete")]
    flow.complete("review_decision", {"review_outcome": "approve"}, by="supervisor")
    assert flow.mails("status_update")[-1][2]["stage"] == "resolved"
    assert flow.elements() == ["follow_up"]


def test_no_role_stands_in_for_the_reviewer_admin_and_the_system_included(start, make_user):
    flow = resolved_by_lead(start, make_user)
    assert offered_to(flow, "boss") == []
    for who in ("boss", None):
        with pytest.raises(NotAllowed, match="sign-off of the Supervisor lane"):
            flow.complete("review_decision", {"review_outcome": "approve"}, by=who)
    assert flow.elements() == ["review_decision"]


def test_a_supervisor_who_resolved_an_escalated_complaint_cannot_review_it(start, clock):
    flow = start()
    flow.complete("register", REGISTER, by="agent")
    advance_and_fire(flow.engine, clock, days=8)  # past the five business days: escalated
    flow.complete("supervisor_resolve", RESOLVED, by="supervisor")
    assert offered_to(flow, "supervisor") == [] and offered_to(flow, "supervisor2") == ["review_decision"]
    with pytest.raises(NotAllowed, match="“Resolve escalated complaint”"):
        flow.complete("review_decision", {"review_outcome": "approve"}, by="supervisor")
    flow.complete("review_decision", {"review_outcome": "approve"}, by="supervisor2")
    assert flow.elements() == ["follow_up"]


def test_a_returned_decision_goes_back_to_the_investigation_with_the_reviewers_notes(start, make_user):
    flow = resolved_by_lead(start, make_user)
    before = flow.snapshot()
    with pytest.raises(InvalidTaskData) as refused:
        flow.complete("review_decision", {"review_outcome": "return"}, by="supervisor")
    assert list(refused.value.errors) == ["review_notes"] and flow.snapshot() == before
    with pytest.raises(InvalidTaskData):
        flow.complete("review_decision", {"review_outcome": "shrug"}, by="supervisor")
    flow.complete("review_decision", {"review_outcome": "return", "review_notes": "Offer the refund in writing."},
                  by="supervisor")
    assert flow.elements() == ["investigate"]
    assert (flow.data["review_count"], flow.data["review_notes"]) == (1, "Offer the refund in writing.")
    assert [m[2]["stage"] for m in flow.mails("status_update")] == ["registered"]  # the client heard nothing
    flow.complete("investigate", RESOLVED, by="agent")
    assert offered_to(flow, "lead") == []  # barred in every round
    flow.complete("review_decision", {"review_outcome": "approve"}, by="supervisor")
    assert flow.mails("status_update")[-1][2]["stage"] == "resolved"


def test_the_review_form_shows_the_decision_and_keeps_it_as_investigated(start, make_user):
    flow = resolved_by_lead(start, make_user)
    form_class, initial = flow.engine.task_form(flow.task("review_decision").id)
    assert initial["resolution"] == RESOLVED["resolution"]
    assert form_class(data=initial).resolution.render_kw["readonly"] is True
    flow.complete("review_decision", {"review_outcome": "approve", "resolution": "Rewritten by the reviewer."},
                  by="supervisor")
    assert flow.data["resolution"] == RESOLVED["resolution"]


# -- the client says "not resolved" ------------------------------------------------------------------------------

def at_follow_up(start, clock) -> Flow:
    flow = start()
    flow.complete("register", REGISTER, by="agent")
    clock.advance(hours=3)
    flow.complete("investigate", RESOLVED, by="agent")
    flow.complete("review_decision", {"review_outcome": "approve"}, by="supervisor")
    assert flow.elements() == ["follow_up"]
    return flow


def test_not_resolved_is_waited_for_only_between_the_resolution_and_the_follow_up(start, clock):
    flow = start()
    reference = flow.engine.instance(flow.id).reference
    assert portal.waiting_messages(flow.engine, flow.id) == set()
    with pytest.raises(MessageNotCorrelated):
        portal.send_message(flow.engine, "client_not_resolved", reference, {"reason": "Too early."})
    flow.complete("register", REGISTER, by="agent")
    flow.complete("investigate", RESOLVED, by="agent")
    assert "client_not_resolved" not in portal.waiting_messages(flow.engine, flow.id)
    flow.complete("review_decision", {"review_outcome": "approve"}, by="supervisor")
    assert "client_not_resolved" in portal.waiting_messages(flow.engine, flow.id)
    flow.complete("follow_up", {"contacted_via": "phone", "client_satisfied": True}, by="agent")
    assert portal.waiting_messages(flow.engine, flow.id) == set()


def test_the_clients_not_resolved_reopens_the_case_and_the_resolution_clock_keeps_its_used_time(start, clock):
    flow = at_follow_up(start, clock)
    met = resolve_clock(flow)
    assert met.state == "met"
    clock.advance(days=3)  # the client answers three days later: that time is not counted
    reference = flow.engine.instance(flow.id).reference
    portal.send_message(flow.engine, "client_not_resolved", reference,
                        {"reason": "The refund has not arrived.", "sent_at": clock.now().isoformat()})
    data = flow.data
    assert flow.elements() == ["investigate"]
    assert (data["reopen_count"], data["reopened_by"], data["reopen_reason"], data["stage"]) == (
        1, "client", "The refund has not arrived.", "reopened")
    assert data["client_feedback"] is None
    assert flow.mails("status_update")[-1][2]["stage"] == "reopened"
    reopened = resolve_clock(flow)
    assert reopened.state == "running"
    # resumed with the three business hours already used: 42 of the 45 business hours (P5D) are left
    assert reopened.due_at == due(ZA, clock.now(), parse_duration("PT42H"))
    with flow.engine.read_session() as session:
        kinds = [(e.kind, e.reason) for e in session.scalars(select(SlaEvent).where(
            SlaEvent.instance_id == flow.id, SlaEvent.target == "resolve").order_by(SlaEvent.id))]
    assert kinds[-1] == ("resumed", "reopened")


# -- the shipped model passes its own lint ----------------------------------------------------------------------

def test_the_shipped_complaint_model_passes_its_own_lint():
    files = {p.name: p.read_text() for p in PROCESSES.iterdir() if p.suffix in (".bpmn", ".dmn", ".json")}
    files.update({p.name: p.read_text() for p in (PROCESSES.parent / "forms").glob("*.json")})
    assert [f for f in lint(files) if f.file == "complaint_handling.bpmn"] == []
