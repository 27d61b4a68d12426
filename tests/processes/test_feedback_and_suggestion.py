"""feedback (satisfaction survey) and suggestion (suggestion box, with hand-off into complaint handling)."""

import pytest

from engine.errors import InvalidTaskData
from tests.processes.flow import PROCESSES, Flow

SUGGESTION = {"submitter_name": "Naledi", "submitter_email": "naledi@example.com", "channel": "suggestion_box",
              "topic": "facilities", "suggestion": "Please put a shelter over the weighbridge queue."}
REVIEW = {"outcome": "adopt", "response": "Thank you, a shelter will be built this winter."}


def test_low_rating_gets_a_service_recovery_follow_up(engine, shipped, staff):
    started = engine.start("feedback", {"rating": 2, "comments": "Nobody called me back.",
                                        "about_reference": "CMP-2026-000042", "client_email": "pule@example.com",
                                        "may_contact": True})
    flow = Flow(engine, started.id)
    assert started.reference.startswith("FBK-")
    task = flow.task("recover_service")
    assert task.lane == "Supervisor"
    _, initial = engine.task_form(task.id)
    assert (initial["rating"], initial["comments"]) == (2, "Nobody called me back.")
    flow.complete("recover_service", {"client_contacted": True, "recovery_action": "Called and apologised."},
                  by="supervisor")
    assert flow.status == "completed"
    assert flow.mails("status_update")[0][1] == "pule@example.com"


@pytest.mark.parametrize("may_contact", [True, False])
def test_good_rating_is_recorded_without_follow_up(engine, shipped, staff, may_contact):
    started = engine.start("feedback", {"rating": "5", "client_email": "pule@example.com",
                                        "may_contact": may_contact})
    flow = Flow(engine, started.id)
    assert flow.status == "completed"
    assert flow.data["rating"] == 5 and flow.data["needs_follow_up"] is False
    assert len(flow.mails()) == (1 if may_contact else 0)


@pytest.mark.parametrize(("data", "field", "message"), [
    ({}, "rating", "required"),
    ({"rating": 6}, "rating", "choice"),
    ({"rating": "excellent"}, "rating", "choice"),
    ({"rating": 4, "client_email": "pule@"}, "client_email", "e-mail"),
    ({"rating": 4, "about_reference": "my complaint"}, "about_reference", "format"),
    ({"rating": 4, "may_contact": "sure"}, "may_contact", "yes/no"),
])
def test_survey_refuses_bad_answers(engine, shipped, staff, data, field, message):
    with pytest.raises(InvalidTaskData) as refused:
        engine.start("feedback", data)
    assert message in " ".join(refused.value.errors[field]).lower()
    assert engine.list_instances(key="feedback") == []


def test_suggestion_is_acknowledged_reviewed_and_answered(engine, shipped, staff):
    started = engine.start("suggestion", SUGGESTION)
    flow = Flow(engine, started.id)
    assert started.reference.startswith("SUG-")
    assert flow.mails("status_update")[0][2]["stage"] == "received"
    assert flow.task("review_suggestion").lane == "Supervisor"
    flow.complete("review_suggestion", REVIEW, by="supervisor")
    assert flow.status == "completed"
    [_, (_, to, reply)] = flow.mails("status_update")
    assert to == "naledi@example.com"
    assert reply == {"reference": started.reference, "stage": "responded", "message": REVIEW["response"],
                     "complaint_reference": None}
    assert engine.list_instances(key="complaint_handling") == []


def test_suggestion_that_is_a_complaint_is_handed_to_complaint_handling(engine, shipped, staff):
    started = engine.start("suggestion", SUGGESTION)
    flow = Flow(engine, started.id)
    before = flow.snapshot()
    with pytest.raises(InvalidTaskData) as refused:
        flow.complete("review_suggestion", {**REVIEW, "outcome": "not_applicable", "is_complaint": True},
                      by="supervisor")
    assert list(refused.value.errors) == ["complaint_category"]
    assert flow.snapshot() == before
    flow.complete("review_suggestion", {**REVIEW, "outcome": "not_applicable", "is_complaint": True,
                                        "complaint_category": "safety_environment"}, by="supervisor")
    [complaint_view] = engine.list_instances(key="complaint_handling")
    complaint = Flow(engine, complaint_view.id)
    assert complaint.data["channel"] == "suggestion_box"
    assert complaint.data["source_reference"] == started.reference
    assert complaint.data["client_email"] == "naledi@example.com"
    assert complaint.data["description"] == SUGGESTION["suggestion"]
    assert complaint.elements() == ["urgent_register"]  # a safety complaint: triaged urgent before registration
    _, initial = engine.task_form(complaint.task("urgent_register").id)
    assert initial["category"] == "safety_environment"
    detail = flow.detail()
    assert detail.instance.status == "completed"
    assert detail.data["handoff_to_complaint"] is True
    assert detail.data["complaint_reference"] == complaint_view.reference
    assert flow.mails("status_update")[-1][2]["complaint_reference"] == complaint_view.reference


def test_failed_hand_off_waits_and_is_retried_once(engine, staff, tmp_path):
    """Without complaint_handling deployed the hand-off fails and the suggestion waits; a retry starts it once."""
    engine.deploy(PROCESSES / "suggestion.bpmn")
    started = engine.start("suggestion", SUGGESTION)
    flow = Flow(engine, started.id)
    flow.complete("review_suggestion", {**REVIEW, "is_complaint": True, "complaint_category": "service"},
                  by="supervisor")
    assert flow.status == "running"
    assert "complaint_opened" in flow.detail().active_elements
    failures = [e for e in engine.events(started.id) if e.kind == "handoff_failed"]
    assert failures and "complaint_handling" in failures[0].detail["message"]
    engine.deploy_each(PROCESSES)
    # as if a process died after starting the complaint but before telling the suggestion about it
    first = engine.start("complaint_handling", flow.data["complaint_handoff"])
    assert engine.handoffs.retry_pending() == [first.reference]
    assert engine.handoffs.retry_pending() == []
    assert [i.id for i in engine.list_instances(key="complaint_handling")] == [first.id]
    assert flow.status == "completed"
    assert flow.data["complaint_reference"] == first.reference
