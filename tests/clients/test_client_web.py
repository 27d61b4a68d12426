"""Client pages and API: search, one client with every case, corrections with field errors, linking, roles, POPIA."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from engine import privacy
from engine.errors import InvalidInput, NotAllowed
from engine.privacy.clients import erase_client
from tests.processes.flow import Flow
from tests.support import bearer_headers, client_signed_in

REQUEST = {"company_name": "Bokamoso Smelting (Pty) Ltd", "contact_name": "Lerato Dlamini",
           "client_email": "lerato@bokamoso.example", "contact_phone": "013 555 0199"}
COMPLAINT = {"client_name": "Lerato Dlamini", "client_email": "lerato@bokamoso.example", "channel": "email",
             "category": "delivery", "description": "The concentrate arrived four days late."}


@pytest.fixture
def bokamoso(engine, shipped, staff):
    onboarding = engine.start("client_onboarding", REQUEST, by="rm")
    complaint = engine.start("complaint_handling", COMPLAINT, by="agent")
    return engine.clients.of_case(onboarding.id), onboarding, complaint


def test_client_page_lists_every_case_and_a_correction_is_saved_once(app, bokamoso, text):
    client, onboarding, complaint = bokamoso
    browser = client_signed_in(app, "agent")
    page = text(browser.get("/clients/?q=bokamoso"))
    assert "Bokamoso Smelting (Pty) Ltd" in page
    page = text(browser.get(f"/clients/{client.id}"))
    assert onboarding.reference in page and complaint.reference in page
    response = browser.post(f"/clients/{client.id}", data={
        "kind": "organisation", "name": client.name, "email": "ops@bokamoso.example", "preferred_channel": "phone",
        "status": "prospect", "consent_surveys": "y"})
    assert response.status_code == 302
    assert app.extensions["clientflow"].clients.get(client.id).email == "ops@bokamoso.example"


def test_a_bad_correction_names_the_field_and_changes_nothing(app, engine, bokamoso, text):
    client = bokamoso[0]
    browser = client_signed_in(app, "agent")
    response = browser.post(f"/clients/{client.id}", data={
        "kind": "organisation", "name": client.name, "phone": "call me", "preferred_channel": "email",
        "status": "prospect"})
    assert response.status_code == 422
    assert "must be a phone number" in text(response)
    assert engine.clients.get(client.id) == client


def test_staff_link_a_case_by_reference(app, engine, bokamoso):
    client = bokamoso[0]
    other = engine.start("complaint_handling", {**COMPLAINT, "client_email": "someone@else.example"}, by="agent")
    browser = client_signed_in(app, "supervisor")
    assert browser.post(f"/clients/{client.id}/cases", data={"reference": other.reference.lower()}).status_code == 302
    assert engine.clients.of_case(other.id).id == client.id


def test_client_pages_need_a_client_facing_role(app, bokamoso, make_user):
    make_user("auditor", "Process Owner")
    assert client_signed_in(app, "auditor").get("/clients/").status_code == 403
    assert app.test_client().get("/clients/").status_code == 302  # to sign-in


def test_api_reads_corrects_and_refuses_bad_data(app, engine, bokamoso):
    client, onboarding, complaint = bokamoso
    api = app.test_client()
    headers = bearer_headers(engine, "agent")
    found = api.get(f"/api/v1/clients/{client.id}", headers=headers).get_json()
    assert {c["reference"] for c in found["cases"]} == {onboarding.reference, complaint.reference}
    assert found["sla"] == {"response_hours": None, "resolution_days": None}
    refused = api.patch(f"/api/v1/clients/{client.id}", json={"email": "nope"}, headers=headers)
    assert refused.status_code == 422 and "email" in refused.get_json()["error"]["fields"]
    done = api.patch(f"/api/v1/clients/{client.id}", json={"sla_response_hours": 8}, headers=headers)
    assert done.status_code == 200 and engine.clients.agreed_sla(client.id).response_hours == 8
    assert api.get("/api/v1/clients?q=bokamoso", headers=headers).get_json()["clients"][0]["id"] == client.id


def test_subject_access_includes_the_client_record_in_plain_words(app, engine, bokamoso):
    client = bokamoso[0]
    record = privacy.find_subject(engine, "lerato@bokamoso.example")
    [entry] = record.clients
    labels = {f["label"]: f["value"] for f in entry["fields"]}
    assert labels["E-mail address"] == "lerato@bokamoso.example" and labels["Name"] == client.name
    assert len(entry["cases"]) == 2
    from webapp.web.privacy_export import HTML_NAME, sar_bundle
    with app.app_context():
        bundle = zipfile.ZipFile(io.BytesIO(sar_bundle(record)))
    page = bundle.read(HTML_NAME).decode()
    assert "Your client record" in page and "Agrees to satisfaction surveys" in page
    assert json.loads(bundle.read("subject-access.json"))["clients"][0]["id"] == client.id


def test_erasing_a_client_needs_an_officer_ended_cases_and_leaves_no_personal_value(engine, bokamoso, make_user):
    client, onboarding, complaint = bokamoso
    make_user("officer_c", "Compliance Officer")
    with pytest.raises(NotAllowed):
        erase_client(engine, client.id, "agent")
    with pytest.raises(InvalidInput) as refused:
        erase_client(engine, client.id, "officer_c")
    assert onboarding.reference in str(refused.value)
    assert engine.clients.get(client.id).name == client.name  # nothing changed
    for case in (onboarding, complaint):
        engine.cancel(case.id, by="supervisor", reason="client left")
    assert erase_client(engine, client.id, "officer_c") == 2
    erased = engine.clients.get(client.id)
    assert (erased.name, erased.email, erased.contact_name, erased.phone, erased.status) == (
        "[erased]", None, None, None, "erased")
    assert privacy.find_subject(engine, "lerato@bokamoso.example").empty
    assert "Lerato" not in json.dumps(Flow(engine, complaint.id).data)
