"""client_onboarding: approval, rejection, the more-information loop, separation of duties and check-ins."""

import json
from datetime import timedelta

import pytest

from engine.errors import InvalidTaskData, NotAllowed
from tests.processes.flow import Flow, advance_and_fire

REQUEST = {"company_name": "Bokamoso Smelting (Pty) Ltd", "contact_name": "Lerato Dlamini",
           "client_email": "lerato@bokamoso.example", "contact_phone": "013 555 0199",
           "services": ["concentrate_supply", "logistics"]}
RM = {"relationship_manager": "Sipho Nkosi", "relationship_manager_email": "sipho@clientflow.example",
      "relationship_manager_phone": "+27 13 555 0100"}
DOCUMENTS = {
    "company_registration_number": "2019/123456/07", "tax_reference_number": "9012345678",
    "vat_number": "4123456789", "bee_status": "level_2", "bee_certificate_expiry": "2027-02-28",
    "primary_contact": {"name": "Lerato Dlamini", "email": "lerato@bokamoso.example"},
    "bank_details": {"bank_name": "nedbank", "account_holder": "Bokamoso Smelting", "account_number": "1234567890",
                     "branch_code": "198765", "account_type": "cheque"},
    "contract_signed_on": "2026-03-20", "pep_involved": False, "high_risk_jurisdiction": False,
    "industry_risk": "low", "terms_explained": True,
}
PDF = b"%PDF-1.4\n% a test document\n"
UPLOADS = {"id_document": "id", "registration_document": "registration", "tax_document": "tax",
           "bank_confirmation": "bank_confirmation", "signed_contract": "contract"}
CHECKS = ["registration_verified", "tax_status_verified", "identity_verified", "bee_certificate_verified",
          "bank_details_verified", "sanctions_screened", "contract_verified"]
APPROVE = {**dict.fromkeys(CHECKS, True), "decision": "approve"}
ACTIVATION = {"client_account_number": "BOK-0001", "service_start_date": "2026-04-01", "sla_agreed": True}


@pytest.fixture
def onboarding(engine, shipped, staff):
    started = engine.start("client_onboarding", REQUEST, by="rm")
    return Flow(engine, started.id)


def upload(flow: Flow, by: str = "officer", expires: str = "2099-12-31", **kinds: str) -> dict[str, str]:
    """Upload one document per field (all five by default); their references, by form field."""
    wanted = kinds or UPLOADS
    return {field: flow.engine.documents.upload(flow.id, kind, f"{field}.pdf", PDF,
                                                None if kind == "contract" else expires, by).reference
            for field, kind in wanted.items()}


def through_documents(flow: Flow, by: str = "officer", **changes) -> None:
    flow.complete("assign_relationship_manager", RM, by="rm")
    flow.complete("collect_documents", {**DOCUMENTS, **upload(flow, by), **changes}, by=by)


def test_approved_client_is_activated_set_up_oriented_checked_in_and_surveyed(onboarding, clock):
    assert onboarding.elements() == ["assign_relationship_manager"]
    assert onboarding.engine.instance(onboarding.id).reference.startswith("ONB-")
    onboarding.complete("assign_relationship_manager", RM, by="rm")
    [(_, to, welcome)] = onboarding.mails("welcome_package")
    assert to == "lerato@bokamoso.example"
    assert welcome["relationship_manager"] == "Sipho Nkosi"
    assert welcome["relationship_manager_email"] == "sipho@clientflow.example"
    assert onboarding.task("collect_documents").lane == "Onboarding Officer"
    onboarding.complete("collect_documents", {**DOCUMENTS, **upload(onboarding)}, by="officer")
    assert onboarding.elements() == ["compliance_check"]
    assert onboarding.task("compliance_check").lane == "Compliance Officer"
    onboarding.complete("compliance_check", APPROVE, by="compliance")
    assert onboarding.mails("compliance_decision")[0][2]["decision"] == "approved"
    assert onboarding.elements() == ["activate_service"]  # nothing else starts before approval
    onboarding.complete("activate_service", ACTIVATION, by="officer")
    activated = clock.now()
    assert onboarding.data["sla_response_hours"] == 24 and onboarding.data["sla_resolution_days"] == 5
    assert onboarding.mails("status_update")[-1][2]["stage"] == "active"
    assert onboarding.elements() == ["orientation", "setup_portal"]
    assert onboarding.task("setup_portal").lane == "IT/Portal Admin"
    assert onboarding.pending_timers() == {"first_checkin_due": activated + timedelta(days=30),
                                           "second_checkin_due": activated + timedelta(days=90)}
    onboarding.complete("setup_portal", {"portal_username": "bokamoso.ops", "systems": ["customer_portal"],
                                         "access_tested": True}, by="itadmin")
    onboarding.complete("orientation", {"orientation_date": "2026-04-02", "orientation_format": "on_site",
                                        "topics": ["safety", "support_channels"],
                                        "support_channels_explained": True}, by="rm")
    assert onboarding.elements() == []
    assert onboarding.status == "running"
    assert advance_and_fire(onboarding.engine, clock, days=29) == 0
    assert advance_and_fire(onboarding.engine, clock, days=1) == 1
    assert onboarding.mails("checkin_reminder")[0][1:] == ("sipho@clientflow.example",
                                                           {"reference": onboarding.data["reference"],
                                                            "company_name": REQUEST["company_name"],
                                                            "checkin": "first"})
    onboarding.complete("first_checkin", {"first_checkin_satisfaction": 4,
                                          "first_checkin_notes": "Happy with deliveries so far."}, by="rm")
    assert advance_and_fire(onboarding.engine, clock, days=60) == 1
    onboarding.complete("second_checkin", {"second_checkin_satisfaction": 5, "second_checkin_notes": "All good.",
                                           "second_checkin_needs": "Wants EDI ordering."}, by="rm")
    detail = onboarding.detail()
    assert detail.instance.status == "completed"
    assert (detail.data["first_checkin_satisfaction"], detail.data["second_checkin_satisfaction"]) == (4, 5)
    assert onboarding.mails("survey_invitation")[0][1] == "lerato@bokamoso.example"
    assert detail.data["stage"] == "completed"


def test_rejection_needs_a_reason_informs_the_client_and_ends(onboarding):
    through_documents(onboarding)
    refusal = {"sanctions_screened": True, "decision": "reject"}
    before = onboarding.snapshot()
    with pytest.raises(InvalidTaskData) as refused:
        onboarding.complete("compliance_check", refusal, by="compliance")
    assert refused.value.errors == {"reason": ["This field is required when decision is reject."]}
    assert onboarding.snapshot() == before
    onboarding.complete("compliance_check", {**refusal, "reason": "Listed on a sanctions register."},
                        by="compliance")
    detail = onboarding.detail()
    assert detail.instance.status == "completed"
    assert "onboarding_rejected" in detail.completed_elements
    assert "activate_service" not in detail.completed_elements
    assert onboarding.mails("compliance_decision") == [
        ("compliance_decision", "lerato@bokamoso.example",
         {"reference": detail.data["reference"], "company_name": REQUEST["company_name"], "decision": "rejected",
          "reason": "Listed on a sanctions register."})]


def test_more_information_loops_back_twice_with_the_documents_kept(onboarding):
    through_documents(onboarding)
    for round_number in (1, 2):
        onboarding.complete("compliance_check", {"registration_verified": True, "decision": "more_info",
                                                 "reason": f"Round {round_number}: the bank letter is unsigned."},
                            by="compliance")
        assert onboarding.elements() == ["collect_documents"]
        assert onboarding.data["more_info_count"] == round_number
        assert onboarding.mails("status_update")[-1][2]["message"].startswith(f"Round {round_number}")
        form_class, initial = onboarding.engine.task_form(onboarding.task("collect_documents").id)
        assert initial["vat_number"] == "4123456789"
        assert initial["bank_details"]["account_number"] == "1234567890"
        assert initial["id_document"].startswith("doc-")
        form = form_class(data=initial)
        assert form.bank_details.form.branch_code.data == "198765"
        # resubmitting only what changed is enough: the rest comes from the data already collected
        onboarding.complete("collect_documents", {"collector_notes": f"Signed letter, round {round_number}."},
                            by="officer")
    _, initial = onboarding.engine.task_form(onboarding.task("compliance_check").id)
    assert initial["more_info_count"] == 2
    onboarding.complete("compliance_check", APPROVE, by="compliance")
    assert onboarding.elements() == ["activate_service"]
    assert onboarding.data["more_info_count"] == 2


def test_documentation_collector_cannot_sign_off(onboarding):
    through_documents(onboarding, by="dual")
    with pytest.raises(NotAllowed, match="separation of duties: dual did “Collect documentation” on this case, so "
                                         "“Compliance sign-off” needs someone else"):
        onboarding.complete("compliance_check", APPROVE, by="dual")
    assert onboarding.elements() == ["compliance_check"]
    onboarding.complete("compliance_check", {**APPROVE, "decision": "more_info", "reason": "Need VAT proof."},
                        by="compliance")
    onboarding.complete("collect_documents", {}, by="officer2")
    with pytest.raises(NotAllowed, match="separation of duties"):  # collected the first round
        onboarding.complete("compliance_check", APPROVE, by="dual")
    onboarding.complete("compliance_check", APPROVE, by="compliance")
    assert onboarding.elements() == ["activate_service"]


def test_compliance_officer_who_did_not_collect_may_sign_off(onboarding):
    through_documents(onboarding, by="officer")
    onboarding.complete("compliance_check", APPROVE, by="dual")
    assert onboarding.elements() == ["activate_service"]


def test_check_in_times_come_from_process_data(engine, shipped, staff, clock):
    started = engine.start("client_onboarding", {**REQUEST, "checkin_first": "P7D", "checkin_second": "PT36H"},
                           by="rm")
    flow = Flow(engine, started.id)
    through_documents(flow)
    flow.complete("compliance_check", APPROVE, by="compliance")
    flow.complete("activate_service", ACTIVATION, by="officer")
    assert flow.pending_timers() == {"first_checkin_due": clock.now() + timedelta(days=7),
                                     "second_checkin_due": clock.now() + timedelta(hours=36)}
    assert advance_and_fire(engine, clock, hours=36) == 1
    assert flow.elements() == ["orientation", "second_checkin", "setup_portal"]


def test_start_refuses_a_check_in_that_is_not_a_duration(engine, shipped, staff):
    with pytest.raises(InvalidTaskData) as refused:
        engine.start("client_onboarding", {**REQUEST, "checkin_first": "30 days"}, by="rm")
    assert list(refused.value.errors) == ["checkin_first"]


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"company_registration_number": "K2019/123"}, "company_registration_number", "format"),
    ({"bee_certificate_expiry": None}, "bee_certificate_expiry", "required when b-bbee status is level 2"),
    ({"bee_status": "level_9"}, "bee_status", "choice"),
    ({"primary_contact": {"name": "Lerato", "email": "lerato@"}}, "primary_contact.email", "e-mail"),
    ({"primary_contact": None}, "primary_contact.name", "required"),
    ({"bank_details": {**DOCUMENTS["bank_details"], "account_number": "12-34"}}, "bank_details.account_number",
     "format"),
    ({"signed_contract": None}, "signed_contract", "required"),
    ({"contract_signed_on": None}, "contract_signed_on", "required"),
    ({"id_document": "doc-99999"}, "id_document", "upload the identity document"),
    ({"industry_risk": None}, "industry_risk", "required"),
    ({"pep_involved": None}, "pep_involved", "required"),
    ({"terms_explained": False}, "terms_explained", "required"),
    ({"finance_contact": {"email": "finance@bokamoso.example"}}, "finance_contact.name", "required"),
])
def test_documentation_form_refuses_bad_data_and_changes_nothing(onboarding, change, field, message):
    onboarding.complete("assign_relationship_manager", RM, by="rm")
    documents = upload(onboarding)
    before = onboarding.snapshot()
    with pytest.raises(InvalidTaskData) as refused:
        onboarding.complete("collect_documents", {**DOCUMENTS, **documents, **change}, by="officer")
    assert field in refused.value.errors, refused.value.errors
    assert message in " ".join(refused.value.errors[field]).lower()
    assert onboarding.snapshot() == before


AFTER_APPROVAL = ("activate_service", "setup_portal", "orientation", "first_checkin")
WORKER = {"assign_relationship_manager": "rm", "activate_service": "officer", "setup_portal": "itadmin",
          "orientation": "rm", "first_checkin": "rm"}


@pytest.mark.parametrize(("element", "data", "field", "message"), [
    ("assign_relationship_manager", {**RM, "relationship_manager_email": "sipho"}, "relationship_manager_email",
     "e-mail"),
    ("assign_relationship_manager", {"relationship_manager": "Sipho"}, "relationship_manager_email", "required"),
    ("compliance_check", {**APPROVE, "decision": "maybe"}, "decision", "choice"),
    ("activate_service", {**ACTIVATION, "sla_response_hours": 0}, "sla_response_hours", "between 1 and 72"),
    ("activate_service", {**ACTIVATION, "sla_response_hours": "soon"}, "sla_response_hours", "integer"),
    ("activate_service", {**ACTIVATION, "service_start_date": "01/04/2026"}, "service_start_date", "date"),
    ("setup_portal", {"portal_username": "Bokamoso Ops!", "systems": ["customer_portal"], "access_tested": True},
     "portal_username", "format"),
    ("orientation", {"orientation_date": "2026-04-02", "orientation_format": "on_site", "topics": [],
                     "support_channels_explained": True}, "topics", "required"),
    ("first_checkin", {"first_checkin_satisfaction": 6, "first_checkin_notes": "Fine."},
     "first_checkin_satisfaction", "choice"),
])
def test_other_onboarding_forms_refuse_bad_data(onboarding, clock, element, data, field, message):
    if element != "assign_relationship_manager":
        through_documents(onboarding)
    if element in AFTER_APPROVAL:
        onboarding.complete("compliance_check", APPROVE, by="compliance")
    if element in AFTER_APPROVAL[1:]:
        onboarding.complete("activate_service", ACTIVATION, by="officer")
    if element == "first_checkin":
        advance_and_fire(onboarding.engine, clock, days=30)
    before = onboarding.snapshot()
    with pytest.raises(InvalidTaskData) as refused:
        onboarding.complete(element, data, by=WORKER.get(element, "compliance"))
    assert message in " ".join(refused.value.errors[field]).lower()
    assert onboarding.snapshot() == before


def test_bank_details_are_marked_sensitive(engine, shipped):
    schema = engine.definition_files("client_onboarding")["onboarding_documents.json"]
    marks = engine.forms.personal_fields(json.loads(schema))
    assert marks["bank_details.account_number"] == "sensitive"
    assert marks["primary_contact.email"] == "personal"
    assert "vat_number" not in marks
