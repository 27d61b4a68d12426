"""The shipped client onboarding through the web forms: start form, field errors, the compliance gate."""

import io
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
    "contract_signed_on": "2026-03-20", "pep_involved": "false", "high_risk_jurisdiction": "false",
    "industry_risk": "low", "terms_explained": "y",
}
PDF = b"%PDF-1.4\n% uploaded through the task page\n"
FILES = ("id_document", "registration_document", "tax_document", "bank_confirmation", "signed_contract")
CHECKS = {name: "y" for name in ("registration_verified", "tax_status_verified", "identity_verified",
                                 "bee_certificate_verified", "bank_details_verified", "sanctions_screened",
                                 "contract_verified")}


def uploads(expires: str = "2099-12-31") -> dict:
    """The task page's file fields: one PDF per document, each with its expiry date."""
    return {**{f"{name}__file": (io.BytesIO(PDF), f"{name}.pdf") for name in FILES},
            **{f"{name}__expires": expires for name in FILES}}


@pytest.fixture
def people(make_user):
    make_user("rita", "Relationship Manager", "Onboarding Officer", "Compliance Officer")  # all but one duty
    make_user("cora", "Compliance Officer")
    make_user("outsider", "Customer Care Agent")


@pytest.fixture
def onboarding(engine, people):
    engine.deploy(ONBOARDING, by="root")


def post_task(client, engine, task, data):
    version = engine.instance(task.instance_id).lock_version
    return client.post(f"/tasks/{task.id}", data={**data, "expected_version": version},
                       content_type="multipart/form-data")


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
    response = post_task(rita, engine, collect, {**DOCUMENTS, **uploads(), "id_document__file": (
        io.BytesIO(b"GIF89a not accepted"), "id.gif")})
    assert response.status_code == 422 and "must be a PDF, PNG or JPEG file" in text(response)
    assert engine.instance(instance.id).lock_version == before
    response = post_task(rita, engine, collect, {**DOCUMENTS, **uploads()})
    assert response.status_code == 303, text(response)[-1500:]
    stored = engine.documents.of_instance(instance.id)
    assert [d.kind for d in stored[-5:]] == ["id", "registration", "tax", "bank_confirmation", "contract"]
    assert engine.instance_detail(instance.id).data["id_document"] == stored[-5].reference

    gate = open_task(instance.id, "compliance_check")
    page = signed_in("cora").get(f"/tasks/{gate.id}")
    assert "Collected information" in text(page) and "2019/123456/07" in text(page)
    assert "Documents and attachments of this case" in text(page)
    document = engine.documents.of_instance(instance.id)[-1]
    served = signed_in("cora").get(f"/documents/{document.id}")
    assert served.status_code == 200 and served.data == PDF and served.headers["X-Content-Type-Options"] == "nosniff"
    assert signed_in("outsider").get(f"/documents/{document.id}").status_code == 403  # not in the case's lanes
    assert any(e.kind == "document_viewed" and e.actor == "cora" for e in engine.events(instance.id))
    refused = post_task(signed_in("rita"), engine, gate, {**CHECKS, "decision": "approve"})
    assert refused.status_code == 403 and "separation of duties" in text(refused)
    cora = signed_in("cora")
    decision = {**CHECKS}
    response = post_task(cora, engine, gate, {**decision, "decision": "reject", "reason": ""})
    assert response.status_code == 422 and 'id="reason-error"' in response.text
    assert post_task(cora, engine, gate, {**decision, "decision": "approve"}).status_code == 303
    assert open_task(instance.id, "activate_service").lane == "Onboarding Officer"
