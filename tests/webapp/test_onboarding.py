"""The shipped client onboarding through the web forms: start form, field errors, the compliance gate."""

from pathlib import Path

import pytest

ONBOARDING = Path(__file__).resolve().parents[2] / "processes" / "client_onboarding.bpmn"

START = {"company_name": "Umbrella Mining", "contact_name": "Alice Abbot", "client_email": "alice@umbrella.example",
         "checkin_first": "P30D", "checkin_second": "P90D"}
DOCUMENTS = {
    "company_registration_number": "2019/123456/07", "tax_reference_number": "9012345678",
    "vat_number": "4123456789", "bee_status": "exempt",
    "primary_contact-name": "Alice Abbot", "primary_contact-email": "alice@umbrella.example",
    "bank_details-bank_name": "fnb", "bank_details-account_holder": "Umbrella Mining (Pty) Ltd",
    "bank_details-account_number": "62000000001", "bank_details-branch_code": "250655",
    "bank_details-account_type": "cheque",
    "documents_received": ["registration_certificate", "tax_clearance", "bank_confirmation_letter"],
    "terms_explained": "y",
}


@pytest.fixture
def people(make_user):
    make_user("rita", "Relationship Manager", "Onboarding Officer", "Compliance Officer")  # all but one duty
    make_user("cora", "Compliance Officer")


@pytest.fixture
def onboarding(engine, people):
    engine.deploy(ONBOARDING, by="root")


def post_task(client, engine, task, data):
    version = engine.instance(task.instance_id).lock_version
    return client.post(f"/tasks/{task.id}", data={**data, "expected_version": version})


def test_onboarding_through_the_compliance_gate(engine, onboarding, signed_in, open_task, text):
    rita = signed_in("rita")
    page = rita.get("/processes/client_onboarding/start")
    assert page.status_code == 200 and '<label for="client_email">' in page.text
    response = rita.post("/processes/client_onboarding/start", data={**START, "client_email": "not-an-email"})
    assert response.status_code == 422 and engine.list_instances() == []
    assert 'id="client_email-error"' in response.text and 'value="Umbrella Mining"' in response.text
    response = rita.post("/processes/client_onboarding/start", data=START)
    [instance] = engine.list_instances()
    assign = open_task(instance.id, "assign_relationship_manager")
    assert response.headers["Location"] == f"/tasks/{assign.id}"
    assert "Umbrella Mining" in rita.get(f"/tasks/{assign.id}").text  # a default taken from the process data

    response = post_task(rita, engine, assign, {"relationship_manager": "Rita", "relationship_manager_email":
                                                "rita@example.com"})
    assert response.status_code == 303, text(response)
    collect = open_task(instance.id, "collect_documents")
    before = engine.instance(instance.id).lock_version
    response = post_task(rita, engine, collect, {**DOCUMENTS, "company_registration_number": "12345",
                                                 "bank_details-branch_code": "x"})
    assert response.status_code == 422
    assert 'id="company_registration_number-error"' in response.text
    assert 'id="bank_details-branch_code-error"' in response.text
    assert 'value="62000000001"' in response.text  # the rest of the input is kept
    assert engine.instance(instance.id).lock_version == before
    response = post_task(rita, engine, collect, DOCUMENTS)
    assert response.status_code == 303, text(response)[-1500:]

    gate = open_task(instance.id, "compliance_check")
    page = signed_in("cora").get(f"/tasks/{gate.id}")
    assert "Collected information" in text(page) and "2019/123456/07" in text(page)
    refused = post_task(signed_in("rita"), engine, gate, {"checks_completed": ["registration_verified"],
                                                          "risk_rating": "low", "decision": "approve"})
    assert refused.status_code == 403 and "separation of duties" in text(refused)
    cora = signed_in("cora")
    decision = {"checks_completed": ["registration_verified", "sanctions_screened"], "risk_rating": "low"}
    response = post_task(cora, engine, gate, {**decision, "decision": "reject", "reason": ""})
    assert response.status_code == 422 and 'id="reason-error"' in response.text
    assert post_task(cora, engine, gate, {**decision, "decision": "approve"}).status_code == 303
    assert open_task(instance.id, "activate_service").lane == "Onboarding Officer"
