"""The client record: made by onboarding, found by complaints, corrected once for every case, consent honoured."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.core.db.models import Event, Notification
from engine.errors import ClientNotFound, InvalidClientData
from tests.processes.flow import Flow

REQUEST = {"company_name": "Bokamoso Smelting (Pty) Ltd", "contact_name": "Lerato Dlamini",
           "client_email": "lerato@bokamoso.example", "contact_phone": "013 555 0199",
           "preferred_channel": "phone", "consent_surveys": True, "consent_marketing": False}
RM = {"relationship_manager": "Sipho Nkosi", "relationship_manager_email": "sipho@clientflow.example"}
COMPLAINT = {"client_name": "Lerato Dlamini", "client_email": "Lerato@Bokamoso.example", "channel": "email",
             "category": "delivery", "description": "The concentrate arrived four days late."}
REGISTER = {"category": "delivery", "severity": "medium", "handler_email": "agent@example.com"}
RESOLUTION = {"findings": "Truck broke down.", "resolution": "Delivered; credit note issued.",
              "corrective_action": "Standby truck contract."}


def start_onboarding(engine, **extra):
    return Flow(engine, engine.start("client_onboarding", {**REQUEST, **extra}, by="rm").id)


def test_onboarding_creates_the_record_and_activation_fills_relationship_manager_and_sla(engine, shipped, staff):
    flow = start_onboarding(engine)
    client = engine.clients.of_case(flow.id)
    assert (client.name, client.email, client.contact_name, client.preferred_channel, client.status) == (
        REQUEST["company_name"], "lerato@bokamoso.example", "Lerato Dlamini", "phone", "prospect")
    assert (client.consent_surveys, client.consent_marketing) == (True, False)
    flow.complete("assign_relationship_manager", RM, by="rm")
    client = engine.clients.get(client.id)
    assert (client.relationship_manager, client.relationship_manager_email) == (
        "Sipho Nkosi", "sipho@clientflow.example")
    assert engine.clients.agreed_sla(client.id).response_hours is None
    assert [c.reference for c in engine.clients.cases(client.id)] == [engine.instance(flow.id).reference]
    assert [e.kind for e in engine.events(flow.id)].count("client_linked") == 1


def test_a_complaint_from_the_same_address_links_to_the_client_and_both_cases_are_on_one_list(
        engine, shipped, staff):
    onboarding = start_onboarding(engine)
    client_id = engine.clients.of_case(onboarding.id).id
    complaint = engine.start("complaint_handling", COMPLAINT, by="agent")  # e-mail matched whatever its case
    stranger = engine.start("complaint_handling", {**COMPLAINT, "client_email": "someone@else.example"}, by="agent")
    assert engine.clients.of_case(complaint.id).id == client_id
    assert engine.clients.of_case(stranger.id) is None
    listed = engine.clients.cases(client_id)
    assert {c.instance_id for c in listed} == {onboarding.id, complaint.id}
    assert {c.process_key for c in listed} == {"client_onboarding", "complaint_handling"}
    engine.clients.link(stranger.id, client_id, by="agent")  # chosen by staff
    assert engine.clients.of_case(stranger.id).id == client_id
    assert {c.matched_on for c in engine.clients.cases(client_id)} == {"created", "email", "staff"}


def test_a_correction_made_once_reaches_every_running_case(engine, shipped, staff):
    onboarding = start_onboarding(engine)
    client_id = engine.clients.of_case(onboarding.id).id
    complaint = Flow(engine, engine.start("complaint_handling", COMPLAINT, by="agent").id)
    engine.clients.correct(client_id, {"email": "ops@bokamoso.example"}, by="rm")
    complaint.complete("register", REGISTER, by="agent")
    onboarding.complete("assign_relationship_manager", RM, by="rm")
    assert complaint.mails("complaint_acknowledgement")[0][1] == "ops@bokamoso.example"
    assert onboarding.mails("welcome_package")[0][1] == "ops@bokamoso.example"
    for flow in (onboarding, complaint):  # each case notes the correction (the fields, never the values)
        noted = [e for e in engine.events(flow.id) if e.kind == "client_record_corrected"][0]
        assert noted.detail == {"client_id": client_id, "fields": ["email"]} and noted.actor == "rm"


def test_withdrawn_survey_consent_holds_back_the_survey_and_says_why(engine, shipped, staff):
    onboarding = start_onboarding(engine)
    client_id = engine.clients.of_case(onboarding.id).id
    complaint = Flow(engine, engine.start("complaint_handling", COMPLAINT, by="agent").id)
    engine.clients.correct(client_id, {"consent_surveys": False}, by="rm")
    complaint.complete("register", REGISTER, by="agent")
    complaint.complete("investigate", RESOLUTION, by="agent")
    complaint.complete("review_decision", {"review_outcome": "approve"}, by="supervisor")
    complaint.complete("follow_up", {"contacted_via": "phone", "client_satisfied": True}, by="agent")
    assert complaint.status == "completed"
    with engine.read_session() as session:
        survey = session.scalars(select(Notification).where(Notification.instance_id == complaint.id,
                                                            Notification.template == "survey_invitation")).one()
        held = session.scalars(select(Event).where(Event.instance_id == complaint.id,
                                                   Event.kind == "notification_suppressed")).one()
    assert (survey.status, survey.last_error) == ("suppressed", "no consent to survey mail")
    assert held.detail["reason"] == "no consent to survey mail" and "recipient" not in held.detail
    assert [m[0] for m in complaint.mails() if m[0] != "survey_invitation"]  # service mails still go
    with engine.read_session() as session:
        pending = session.scalars(select(Notification.template).where(
            Notification.instance_id == complaint.id, Notification.status == "pending")).all()
    assert "survey_invitation" not in pending and "complaint_acknowledgement" in pending


def test_a_client_who_agreed_gets_the_survey(engine, shipped, staff):
    start_onboarding(engine)
    complaint = Flow(engine, engine.start("complaint_handling", COMPLAINT, by="agent").id)
    complaint.complete("register", REGISTER, by="agent")
    complaint.complete("investigate", RESOLUTION, by="agent")
    complaint.complete("review_decision", {"review_outcome": "approve"}, by="supervisor")
    complaint.complete("follow_up", {"contacted_via": "phone", "client_satisfied": True}, by="agent")
    with engine.read_session() as session:
        status = session.scalar(select(Notification.status).where(
            Notification.instance_id == complaint.id, Notification.template == "survey_invitation"))
    assert status == "pending"


def test_bad_corrections_name_every_field_and_change_nothing(engine, shipped, staff):
    client = engine.clients.create({"name": "Thandi Mokoena", "kind": "person", "email": "thandi@example.com"},
                                   by="agent")
    with pytest.raises(InvalidClientData) as refused:
        engine.clients.correct(client.id, {"email": "not-an-address", "preferred_channel": "pigeon",
                                           "sla_response_hours": 0, "name": "", "colour": "red"}, by="agent")
    assert set(refused.value.errors) == {"email", "preferred_channel", "sla_response_hours", "name", "colour"}
    assert engine.clients.get(client.id) == client
    with pytest.raises(ClientNotFound):
        engine.clients.correct(client.id + 99, {"name": "X"}, by="agent")
    with pytest.raises(InvalidClientData):
        engine.clients.create({"kind": "person"}, by="agent")


def test_registration_number_matches_before_e_mail(engine, shipped, staff):
    company = engine.clients.create({"name": "Bokamoso", "registration_number": "2019/123456/07",
                                     "email": "accounts@bokamoso.example"}, by="rm")
    person = engine.clients.create({"name": "Lerato", "kind": "person", "email": "lerato@bokamoso.example"},
                                   by="rm")
    flow = start_onboarding(engine)  # matched by e-mail to the person record, no new record
    assert engine.clients.of_case(flow.id).id == person.id
    assert [c.name for c in engine.clients.search("bokamoso")] == ["Bokamoso", "Lerato"]
    from engine.clients.records import match
    with engine.read_session() as session:
        row, how = match(session, "lerato@bokamoso.example", "2019/123456/07")
    assert (row.id, how) == (company.id, "registration_number")
