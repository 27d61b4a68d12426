"""inquiry: every channel, a reference, routed by category, answered within the target, closed on the client's yes."""

import json

import pytest

from engine.errors import InvalidTaskData, NotAllowed
from engine.reports.milestones import milestone_map
from tests.processes.flow import PROCESSES, Flow, advance_and_fire

QUESTION = {"client_name": "Thandi Mokoena", "client_email": "thandi@example.com", "channel": "hotline",
            "category": "technical", "question": "How do I reset the portal password for our second user?"}
ANSWER = {"answer": "Use 'Forgot password' on the sign-in page; the link is valid for one hour."}
CHANNELS = json.loads((PROCESSES.parent / "forms" / "inquiry_intake.json").read_text())["properties"]["channel"]


@pytest.fixture
def support(make_user):
    make_user("tech", "Technical Support")


def start(engine, **changes) -> Flow:
    return Flow(engine, engine.start("inquiry", {**QUESTION, **changes}, by="agent").id)


def test_question_is_acknowledged_routed_answered_and_closed_on_confirmation(engine, shipped, staff, support):
    flow = start(engine)
    reference = engine.instance(flow.id).reference
    assert reference.startswith("INQ-")
    [(_, to, ack)] = flow.mails("status_update")
    assert to == "thandi@example.com" and ack["reference"] == reference and "24 hours" in ack["message"]
    task = flow.task("answer_technical")
    assert task.lane == "Technical Support"
    with pytest.raises(NotAllowed):
        engine.complete(task.id, ANSWER, by="agent")  # not the agents' lane
    flow.complete("answer_technical", ANSWER, by="tech")
    assert flow.mails("status_update")[-1][2] == {"reference": reference, "stage": "answered",
                                                   "message": ANSWER["answer"]}
    assert flow.elements() == ["confirm_with_client"] and flow.status == "running"  # not closed without a yes
    flow.complete("confirm_with_client", {"contacted_via": "phone", "client_confirmed": True}, by="agent")
    assert flow.status == "completed" and flow.data["stage"] == "closed"


@pytest.mark.parametrize(("category", "element", "lane"), [
    ("technical", "answer_technical", "Technical Support"), ("account", "answer_account", "Relationship Manager"),
    ("contract", "answer_account", "Relationship Manager"), ("billing", "answer_general", "Customer Care Agent"),
    ("general", "answer_general", "Customer Care Agent")])
def test_category_decides_the_team(engine, shipped, staff, category, element, lane):
    flow = start(engine, category=category)
    assert flow.elements() == [element] and flow.task(element).lane == lane


def test_every_channel_is_accepted_and_a_bad_question_starts_nothing(engine, shipped, staff):
    for channel in CHANNELS["enum"]:
        assert engine.instance(start(engine, channel=channel).id).status == "running"
    for channel in ("hotline", "email", "website", "walk_in", "letter", "social_media", "public_meeting"):
        assert channel in CHANNELS["enum"]
    before = len(engine.list_instances(key="inquiry"))
    with pytest.raises(InvalidTaskData) as refused:
        engine.start("inquiry", {**QUESTION, "channel": "carrier_pigeon", "question": "short"}, by="agent")
    assert set(refused.value.errors) == {"channel", "question"}
    with pytest.raises(InvalidTaskData) as refused:
        engine.start("inquiry", {"channel": "email"}, by="agent")
    assert set(refused.value.errors) == {"category", "question"}
    assert len(engine.list_instances(key="inquiry")) == before


def test_unanswered_question_goes_to_a_supervisor_when_the_target_passes(engine, shipped, staff, clock):
    flow = start(engine, category="general")
    assert advance_and_fire(engine, clock, hours=23) == 0
    assert advance_and_fire(engine, clock, hours=1) == 1
    assert flow.elements() == ["supervisor_answer"]
    [(_, to, escalation)] = flow.mails("escalation")
    assert to == "care-supervisors@clientflow.example" and escalation["reason"] == "not answered within 24 hours"
    flow.complete("supervisor_answer", ANSWER, by="supervisor")
    assert flow.elements() == ["confirm_with_client"]


def test_client_not_satisfied_reopens_with_the_reason_and_routes_again(engine, shipped, staff, support):
    flow = start(engine)
    flow.complete("answer_technical", ANSWER, by="tech")
    with pytest.raises(InvalidTaskData) as refused:
        flow.complete("confirm_with_client", {"contacted_via": "email", "client_confirmed": False}, by="agent")
    assert "still_open_reason" in refused.value.errors
    flow.complete("confirm_with_client", {"contacted_via": "email", "client_confirmed": False,
                                          "still_open_reason": "The link expired before I used it."}, by="agent")
    assert flow.elements() == ["answer_technical"]
    assert flow.data["reopen_count"] == 1 and flow.data["still_open_reason"].startswith("The link expired")
    assert flow.mails("status_update")[-1][2]["stage"] == "reopened"


def test_inquiries_feed_the_report_milestones_and_link_to_the_client(engine, shipped, staff, support):
    client = engine.clients.create({"name": "Thandi Mokoena", "kind": "person", "email": "thandi@example.com"},
                                   by="agent")
    flow = start(engine)
    assert engine.clients.of_case(flow.id).id == client.id
    with engine.read_session() as session:
        found = milestone_map(session.connection())
    assert ("inquiry", "acknowledge_inquiry") in found.of("acknowledged")
    assert ("inquiry", "resolve_inquiry") in found.of("resolved")
    assert ("inquiry", "reopen_inquiry") in found.of("reopened")
    assert ("inquiry", "escalate_inquiry") in found.of("escalated")
    assert {e for k, e in found.of("breached") if k == "inquiry"} == {
        "breach_answer_general", "breach_answer_technical", "breach_answer_account"}
