"""Modeler endpoints: open a version or a draft, save drafts, validate (with element ids), deploy a new version."""

import json
import re

import pytest

XXE = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</bpmn:definitions>')


def state_of(response) -> dict:
    found = re.search(r'<script type="application/json" id="studio-state">(.*?)</script>',
                      response.get_data(as_text=True), re.S)
    return json.loads(found.group(1))


@pytest.fixture
def files(engine, sla):
    return engine.definition_files("sla", 1)


def test_editor_opens_the_latest_version_then_the_users_draft(sign_in, engine, files):
    client = sign_in("po")
    state = state_of(client.get("/studio/processes/sla/edit"))
    assert (state["files"], state["base_version"], state["is_draft"]) == (files, 1, False)
    assert state["bpmn_files"] == ["sla.bpmn"]
    assert [f["rule"] for f in state["findings"]] == ["unset-field"] or state["findings"] == []
    changed = {**files, "sla.bpmn": files["sla.bpmn"].replace('"PT1H"', '"PT2H"')}
    saved = client.post("/studio/processes/sla/draft", json={"files": changed, "base_version": 1})
    assert saved.status_code == 200 and saved.json["files"] == sorted(files)
    state = state_of(client.get("/studio/processes/sla/edit"))
    assert state["is_draft"] and state["files"]["sla.bpmn"] == changed["sla.bpmn"]
    other = state_of(sign_in("root").get("/studio/processes/sla/edit"))
    assert not other["is_draft"]  # drafts are per user


def test_unknown_process_editor_is_404_and_bad_key_400(sign_in, sla):
    assert sign_in("po").get("/studio/processes/nothing/edit").status_code == 404
    assert sign_in("po").get("/studio/processes/Not%20A%20Key/edit").status_code == 400


@pytest.mark.parametrize("body, status, message", [
    ({"files": {"../sla.bpmn": "<x/>"}}, 422, "no folders"),
    ({"files": {"sla.exe": "MZ"}}, 422, "only .bpmn, .dmn, .json files"),
    ({"files": {"sla.bpmn": XXE}}, 422, "document type declarations (DTD, entities) are not allowed"),
    ({"files": {"sla.bpmn": "<open>"}}, 422, "malformed XML"),
    ({"files": {"f.json": "{}"}}, 422, "the bundle holds no .bpmn file"),
    ({"files": {"sla.bpmn": "<x/>", "f.json": "{bad"}}, 422, "invalid JSON"),
    ({"files": {}}, 400, "non-empty mapping"),
    ({"files": {"sla.bpmn": 5}}, 400, "'files' must map file names to their text"),
    ({"files": {"sla.bpmn": "<x/>"}, "base_version": "one"}, 400, "'base_version' must be a whole number"),
])
def test_bad_drafts_are_refused_and_nothing_is_saved(sign_in, engine, sla, body, status, message):
    response = sign_in("po").post("/studio/processes/sla/draft", json=body)
    assert response.status_code == status, response.json
    assert message in response.json["error"]["message"]
    assert engine.draft("sla", "po") is None


def test_a_body_that_is_not_json_is_refused(sign_in, sla):
    response = sign_in("po").post("/studio/processes/sla/draft", data="files=1",
                                  headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert "send a JSON object" in response.json["error"]["message"]


def test_discard_draft(sign_in, engine, files):
    client = sign_in("po")
    client.post("/studio/processes/sla/draft", json={"files": files})
    assert client.post("/studio/processes/sla/draft/discard").status_code == 303
    assert engine.draft("sla", "po") is None


def test_validate_marks_the_faulty_elements(sign_in, files):
    broken = (files["sla.bpmn"].replace('resolution == "resolved"', 'resolution == "resolved" and')
              .replace('"PT1H"', "P1H"))  # bare ISO 8601 is fine (PT1H); P1H is not a duration
    response = sign_in("po").post("/studio/processes/sla/validate", json={"files": {**files, "sla.bpmn": broken}})
    assert response.status_code == 200
    errors = {(f["element_id"], f["rule"]) for f in response.json["findings"] if f["severity"] == "error"}
    assert errors == {("f_yes", "condition"), ("sla_timer", "timer")}
    assert response.json["errors"] == 2


def test_validate_reports_the_engines_own_verdict_with_element_id(sign_in, files):
    broken = files["sla.bpmn"].replace('targetRef="escalate"', 'targetRef="nowhere"')
    findings = sign_in("po").post("/studio/processes/sla/validate",
                                  json={"files": {**files, "sla.bpmn": broken}}).json["findings"]
    assert findings[0]["rule"] == "engine" and findings[0]["severity"] == "error"
    assert findings[0]["line"]


def test_validate_refuses_xxe_with_the_engines_message(sign_in, sla):
    response = sign_in("po").post("/studio/processes/sla/validate", json={"files": {"sla.bpmn": XXE}})
    assert response.status_code == 422
    assert response.json["error"]["problems"][0]["message"] == \
        "document type declarations (DTD, entities) are not allowed"


def test_deploy_makes_a_new_version_and_drops_the_draft(sign_in, engine, files):
    client = sign_in("po")
    old = engine.start("sla", by="alice")
    changed = {**files, "sla.bpmn": files["sla.bpmn"].replace('"PT1H"', '"PT2H"')}
    client.post("/studio/processes/sla/draft", json={"files": changed, "base_version": 1})
    response = client.post("/studio/processes/sla/deploy", json={"files": changed})
    assert response.status_code == 200
    assert (response.json["version"], response.json["created"]) == (2, True)
    assert response.json["url"] == "/studio/processes/sla"
    assert engine.draft("sla", "po") is None
    assert engine.start("sla", by="alice").version == 2
    assert engine.instance(old.id).version == 1
    again = client.post("/studio/processes/sla/deploy", json={"files": changed})
    assert (again.json["version"], again.json["created"]) == (2, False)


def test_deploy_refuses_a_model_with_errors(sign_in, engine, files):
    broken = {**files, "sla.bpmn": files["sla.bpmn"].replace('"PT1H"', '"an hour"')}
    response = sign_in("po").post("/studio/processes/sla/deploy", json={"files": broken})
    assert response.status_code == 422
    assert response.json["error"]["message"] == "Fix the errors before deploying."
    assert [f["element_id"] for f in response.json["findings"] if f["severity"] == "error"] == ["sla_timer"]
    assert [p.version for p in engine.processes()] == [1]


def test_deploy_a_new_process_from_a_blank_draft(sign_in, engine, people):
    client = sign_in("po")
    client.post("/studio/new", data={"key": "notes", "name": "Notes"})
    draft = engine.draft("notes", "po")
    bpmn = draft.files["notes.bpmn"].replace(
        '<bpmn:startEvent id="StartEvent_1" />',
        '<bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>f</bpmn:outgoing></bpmn:startEvent>'
        '<bpmn:endEvent id="End_1"><bpmn:incoming>f</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="f" sourceRef="StartEvent_1" targetRef="End_1" />')
    response = client.post("/studio/processes/notes/deploy", json={"files": {"notes.bpmn": bpmn}})
    assert response.status_code == 200 and response.json["version"] == 1
    assert engine.start("notes", by="po").status == "completed"
