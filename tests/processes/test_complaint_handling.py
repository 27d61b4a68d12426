"""complaint_handling: every path, through the engine facade, restored from the database before each step.

Deadlines count business time on za-office (Mon-Fri 08:00-17:00 SAST, SA public holidays): the clock starts on
Monday 1 February 2027 at 09:00 SAST, a month without public holidays.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from engine import ManualClock
from engine.errors import InvalidTaskData, NotAllowed
from engine.sla import due, parse_duration, shipped_calendars
from tests.processes.flow import Flow, advance_and_fire

SAST = ZoneInfo("Africa/Johannesburg")
ZA = shipped_calendars()["za-office"]

SUPERVISORS = "care-supervisors@clientflow.example"
MANAGER = "customer-service-manager@clientflow.example"
COMPLAINT = {"client_name": "Thandi Mokoena", "client_email": "thandi@example.com", "client_phone": "+27 82 555 0101",
             "channel": "hotline", "category": "delivery", "description": "The concentrate delivery was 12 days late.",
             "remedy_sought": "Refund the transport fee."}
RESOLVED = {"findings": "The carrier lost the load sheet at the weighbridge.",
            "resolution": "We refunded the transport fee and changed carrier for your route."}


@pytest.fixture
def clock():
    return ManualClock(datetime(2027, 2, 1, 9, 0, tzinfo=SAST))


def later(clock, duration: str, start=None):
    """`duration` of business time on za-office after `start` (default: now)."""
    return due(ZA, start or clock.now(), parse_duration(duration))


def advance_to(flow, clock, when) -> int:
    return advance_and_fire(flow.engine, clock, seconds=(when - clock.now()).total_seconds())


@pytest.fixture
def complaint(engine, shipped, staff):
    started = engine.start("complaint_handling", COMPLAINT, by="agent")
    return Flow(engine, started.id)


def register(flow: Flow, severity: str = "medium", **extra) -> None:
    flow.complete("register", {"severity": severity, "handler_email": "agent@example.com", **extra}, by="agent")


def approve(flow: Flow, by: str = "supervisor") -> None:
    """The independent review passes the decision (the reviewer took no part in the investigation)."""
    flow.complete("review_decision", {"review_outcome": "approve"}, by=by)


def turnaround(flow: Flow) -> str:
    [(_, _, registered)] = [m for m in flow.mails("status_update") if m[2]["stage"] == "registered"]
    return registered["turnaround"]


def test_happy_path_acknowledges_resolves_follows_up_and_closes(complaint, clock):
    assert complaint.engine.instance(complaint.id).reference.startswith(f"CMP-{clock.now().year}-")
    assert complaint.elements() == ["register"]
    assert complaint.pending_timers() == {"acknowledgement_overdue": datetime(2027, 2, 2, 9, 0, tzinfo=SAST)}
    reference = complaint.data["reference"]
    assert complaint.mails("complaint_acknowledgement") == [  # at receipt, before anyone registers it
        ("complaint_acknowledgement", "thandi@example.com",
         {"reference": reference, "client_name": "Thandi Mokoena", "category": "delivery", "channel": "hotline"})]
    register(complaint, "medium")
    assert turnaround(complaint) == "5 days"
    investigate = complaint.task("investigate")
    assert investigate.lane == "Customer Care Agent"
    assert investigate.due_at == datetime(2027, 2, 8, 9, 0, tzinfo=SAST)  # five business days
    assert complaint.pending_timers() == {"sla_warning": datetime(2027, 2, 5, 9, 0, tzinfo=SAST),
                                          "sla_breached": datetime(2027, 2, 8, 9, 0, tzinfo=SAST)}
    complaint.complete("investigate", RESOLVED, by="agent2")
    assert complaint.mails("status_update")[-1][2]["stage"] == "registered"  # nothing out before the review
    approve(complaint)
    assert complaint.mails("status_update")[-1][2]["stage"] == "resolved"
    assert complaint.mails("status_update")[-1][2]["message"] == RESOLVED["resolution"]
    assert complaint.elements() == ["follow_up"]
    complaint.complete("follow_up", {"contacted_via": "phone", "client_satisfied": True}, by="agent")
    detail = complaint.detail()
    assert detail.instance.status == "completed"
    assert detail.data["stage"] == "closed" and detail.data["reopen_count"] == 0
    assert "root_cause_analysis" not in detail.completed_elements
    assert complaint.mails("survey_invitation") == [
        ("survey_invitation", "thandi@example.com",
         {"reference": reference, "client_name": "Thandi Mokoena", "survey": "feedback"})]
    assert all(not t.pending for t in complaint.engine.timers(complaint.id))
    # one mail per stage the client cares about, no more
    assert [(template, stage.get("stage")) for template, to, stage in complaint.mails() if to == "thandi@example.com"] \
        == [("complaint_acknowledgement", None), ("status_update", "registered"), ("status_update", "resolved"),
            ("survey_invitation", None)]


def test_unacknowledged_complaint_goes_to_a_supervisor_after_one_business_day(complaint, clock):
    assert advance_and_fire(complaint.engine, clock, hours=23, minutes=59) == 0
    assert complaint.elements() == ["register"]
    assert advance_and_fire(complaint.engine, clock, minutes=1) == 1  # Tuesday 09:00
    assert complaint.elements() == ["supervisor_register"]
    assert complaint.task("supervisor_register").lane == "Supervisor"
    [(_, to, payload)] = complaint.mails("escalation")
    assert to == SUPERVISORS and payload["reason"] == "not acknowledged within one business day"
    with pytest.raises(NotAllowed, match="role 'Supervisor'"):
        complaint.complete("supervisor_register", {"severity": "low"}, by="agent")
    complaint.complete("supervisor_register", {"severity": "low"}, by="supervisor")
    assert complaint.data["acknowledgement_overdue"] is True
    assert complaint.elements() == ["investigate"]
    assert turnaround(complaint) == "10 days"


def test_warning_timer_tells_handler_and_supervisor_and_leaves_the_task_open(complaint, clock):
    register(complaint, "high")
    due = complaint.task("investigate").due_at
    assert due == datetime(2027, 2, 4, 9, 0, tzinfo=SAST)  # three business days
    assert advance_and_fire(complaint.engine, clock, days=2) == 1  # warned one business day before
    assert complaint.elements() == ["investigate"]
    assert complaint.task("investigate").due_at == due
    assert sorted(to for _, to, _ in complaint.mails("sla_warning")) == ["agent@example.com", SUPERVISORS]
    assert complaint.mails("escalation") == []


def test_escalates_to_supervisor_then_manager(complaint, clock):
    register(complaint, "critical")
    breach = datetime(2027, 2, 3, 15, 0, tzinfo=SAST)  # 24 business hours: Mon 8 h, Tue 9 h, Wed 7 h
    assert advance_to(complaint, clock, breach) == 2  # warning (12 business hours) and breach
    assert complaint.elements() == ["supervisor_resolve"]
    assert complaint.data["escalation_level"] == 1
    assert complaint.task("supervisor_resolve").due_at == datetime(2027, 2, 4, 14, 0, tzinfo=SAST)  # 8 h
    assert [to for _, to, _ in complaint.mails("escalation")] == [SUPERVISORS]
    assert complaint.mails("status_update")[-1][2]["stage"] == "escalated"
    assert advance_to(complaint, clock, datetime(2027, 2, 4, 14, 0, tzinfo=SAST)) == 1
    assert complaint.elements() == ["manager_resolve"]
    assert complaint.task("manager_resolve").lane == "Manager"
    assert [to for _, to, _ in complaint.mails("escalation")] == [SUPERVISORS, MANAGER]
    with pytest.raises(NotAllowed):
        complaint.complete("manager_resolve", RESOLVED, by="supervisor")
    complaint.complete("manager_resolve", RESOLVED, by="manager")
    assert complaint.data["escalation_level"] == 2
    approve(complaint, by="supervisor")  # the supervisor's own step was taken over by the timer: not involved
    assert complaint.elements() == ["follow_up"]
    complaint.complete("follow_up", {"contacted_via": "email", "client_satisfied": True}, by="agent")
    assert complaint.elements() == ["root_cause_analysis"]  # critical severity


def test_supervisor_resolving_in_time_stops_the_manager_escalation(complaint, clock):
    register(complaint, "medium")
    advance_and_fire(complaint.engine, clock, days=7)
    complaint.complete("supervisor_resolve", RESOLVED, by="supervisor")
    approve(complaint, by="supervisor2")
    assert advance_and_fire(complaint.engine, clock, days=30) == 0
    assert complaint.elements() == ["follow_up"]
    assert MANAGER not in [to for _, to, _ in complaint.mails()]


def test_unsatisfied_client_reopens_then_root_cause_analysis(complaint, clock):
    register(complaint, "low")
    complaint.complete("investigate", RESOLVED, by="agent")
    approve(complaint)
    with pytest.raises(InvalidTaskData) as refused:
        complaint.complete("follow_up", {"contacted_via": "phone", "client_satisfied": False}, by="agent")
    assert list(refused.value.errors) == ["follow_up_notes"]
    complaint.complete("follow_up", {"contacted_via": "phone", "client_satisfied": False,
                                     "follow_up_notes": "The refund has not arrived."}, by="agent")
    assert complaint.data["reopen_count"] == 1
    assert complaint.mails("status_update")[-1][2]["stage"] == "reopened"
    assert complaint.elements() == ["investigate"]
    assert complaint.pending_timers()["sla_breached"] == later(clock, "P10D")  # re-armed
    complaint.complete("investigate", {**RESOLVED, "resolution": "The refund was paid on 3 March."}, by="agent")
    approve(complaint)
    complaint.complete("follow_up", {"contacted_via": "phone", "client_satisfied": True}, by="agent")
    assert complaint.elements() == ["root_cause_analysis"]  # reopened once
    rca = complaint.task("root_cause_analysis")
    assert rca.lane == "Supervisor"
    complaint.complete("root_cause_analysis", {"root_cause_category": "process",
                                               "root_cause": "Refunds wait for a monthly batch run.",
                                               "corrective_action": "Refunds now run daily."}, by="supervisor")
    assert complaint.status == "completed"
    assert complaint.data["root_cause"] == "Refunds wait for a monthly batch run."


@pytest.mark.parametrize(("severity", "recurring", "expected"), [
    ("high", False, ["root_cause_analysis"]),
    ("low", True, ["root_cause_analysis"]),
    ("medium", False, []),
])
def test_root_cause_analysis_for_high_severity_or_recurring_issues(complaint, severity, recurring, expected):
    register(complaint, severity)
    complaint.complete("investigate", {**RESOLVED, "recurring_issue": recurring}, by="agent")
    approve(complaint)
    complaint.complete("follow_up", {"contacted_via": "sms", "client_satisfied": True}, by="agent")
    assert complaint.elements() == expected


def test_safety_complaints_get_the_fastest_track(complaint, clock):
    register(complaint, "low", category="safety_environment")
    assert complaint.pending_timers()["sla_breached"] == datetime(2027, 2, 1, 17, 0, tzinfo=SAST)  # 8 business h
    assert turnaround(complaint) == "8 hours"


def test_complaint_without_email_is_acknowledged_by_the_agent_only(engine, shipped, staff):
    started = engine.start("complaint_handling", {"channel": "walk_in", "description": "Nobody answered the hotline."},
                           by="agent")
    flow = Flow(engine, started.id)
    flow.complete("register", {"client_name": "Walk-in visitor", "category": "service", "severity": "low",
                               "acknowledgement_note": "Acknowledged in person at reception."}, by="agent")
    assert flow.mails() == []
    assert flow.elements() == ["investigate"]


def test_register_form_opens_prefilled_from_the_complaint(complaint):
    form_class, initial = complaint.engine.task_form(complaint.task("register").id)
    assert initial["client_email"] == "thandi@example.com" and initial["category"] == "delivery"
    assert initial["reference"].startswith("CMP-")
    form = form_class(data=initial)
    assert [f.name for f in form][:4] == ["reference", "description", "category", "severity"]
    assert form.reference.render_kw["readonly"] is True
    assert "Critical" in form.severity()


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"channel": None, "description": "Late delivery again and again."}, "channel", "required"),
    ({**COMPLAINT, "description": None}, "description", "required"),
    ({**COMPLAINT, "client_email": "thandi-at-example"}, "client_email", "e-mail"),
    ({**COMPLAINT, "channel": "carrier_pigeon"}, "channel", "choice"),
    ({**COMPLAINT, "description": 42}, "description", "text"),
    ({**COMPLAINT, "occurred_on": "yesterday"}, "occurred_on", "date"),
])
def test_intake_refuses_bad_data_and_starts_nothing(engine, shipped, staff, data, field, message):
    with pytest.raises(InvalidTaskData) as refused:
        engine.start("complaint_handling", data, by="agent")
    assert field in refused.value.errors
    assert message in " ".join(refused.value.errors[field]).lower()
    assert engine.list_instances(key="complaint_handling") == []


def test_intake_drops_unknown_fields(engine, shipped, staff):
    started = engine.start("complaint_handling", {**COMPLAINT, "is_admin": True, "supervisor_email": "x@evil.test"},
                           by="agent")
    data = Flow(engine, started.id).data
    assert "is_admin" not in data
    assert data["supervisor_email"] == SUPERVISORS


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"severity": None}, "severity", "required"),
    ({"severity": "apocalyptic"}, "severity", "choice"),
    ({"severity": "low", "handler_email": "agent.example.com"}, "handler_email", "e-mail"),
    ({"severity": "low", "client_name": ["Thandi"]}, "client_name", "text"),
    ({"severity": "low", "client_phone": "call me"}, "client_phone", "format"),
])
def test_register_refuses_bad_data_and_changes_nothing(complaint, data, field, message):
    before = complaint.snapshot()
    with pytest.raises(InvalidTaskData) as refused:
        complaint.complete("register", data, by="agent")
    assert field in refused.value.errors
    assert message in " ".join(refused.value.errors[field]).lower()
    assert complaint.snapshot() == before
    assert complaint.elements() == ["register"]


@pytest.mark.parametrize(("data", "field"), [
    ({"findings": "Short", "resolution": RESOLVED["resolution"]}, "findings"),
    ({"findings": RESOLVED["findings"]}, "resolution"),
    ({**RESOLVED, "recurring_issue": "perhaps"}, "recurring_issue"),
])
def test_resolution_form_refuses_bad_data(complaint, data, field):
    register(complaint)
    before = complaint.snapshot()
    with pytest.raises(InvalidTaskData) as refused:
        complaint.complete("investigate", data, by="agent")
    assert field in refused.value.errors
    assert complaint.snapshot() == before
