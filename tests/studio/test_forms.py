"""Form editor: the preview is the staff form (same WTForms builder); invalid schemas are refused with the reason."""

import json

import pytest

SCHEMA = {"type": "object", "required": ["resolution"], "properties": {
    "resolution": {"type": "string", "title": "Resolution", "enum": ["resolved", "open"]},
    "contacted": {"type": "string", "format": "date", "title": "Contacted on"},
}}


def test_editor_page_shows_the_form_of_the_latest_version(sign_in, sla, text):
    response = sign_in("po").get("/studio/processes/sla/forms/handle.json")
    assert response.status_code == 200
    assert '"title": "Resolution"' in text(response)


def test_a_new_form_file_starts_from_a_template(sign_in, sla, text):
    response = sign_in("po").get("/studio/processes/sla/forms/review.json")
    assert response.status_code == 200
    assert "new" in text(response) and '"type": "object"' in text(response)


@pytest.mark.parametrize("name", ["review.txt", "..%2Fevil.json"])
def test_editor_refuses_odd_file_names(sign_in, sla, name):
    assert sign_in("po").get(f"/studio/processes/sla/forms/{name}").status_code in (404, 422)


def test_preview_renders_the_staff_form(sign_in, sla):
    response = sign_in("po").post("/studio/forms/preview", json={"schema": json.dumps(SCHEMA)})
    assert response.status_code == 200
    html = response.json["html"]
    assert 'name="resolution"' in html and 'value="resolved"' in html
    assert 'type="date"' in html and "Contacted on" in html
    assert "required" in html


def test_preview_uses_the_ui_schema(sign_in, sla):
    ui = {"resolution": {"ui:widget": "radio", "ui:help": "Pick one"}}
    response = sign_in("po").post("/studio/forms/preview", json={"schema": json.dumps(SCHEMA), "ui": json.dumps(ui)})
    assert response.status_code == 200
    assert 'type="radio"' in response.json["html"] and "Pick one" in response.json["html"]


@pytest.mark.parametrize("schema, message", [
    ('{"type": "object", "properties": {"a": {"type": "string", "colour": "red"}}}', "'colour' is not supported"),
    ('{"type": "array"}', '"type": "object" at the top'),
    ('{"type": "object", "properties": {"a": {"type": "integer", "minimum": "low"}}}', "minimum"),
    ('{"type": "object",', "is not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
])
def test_invalid_schemas_are_refused_with_the_reason(sign_in, sla, schema, message):
    response = sign_in("po").post("/studio/forms/preview", json={"schema": schema})
    assert response.status_code == 422
    assert message in response.json["error"]["message"]


def test_preview_without_a_schema_is_a_bad_request(sign_in, sla):
    response = sign_in("po").post("/studio/forms/preview", json={"ui": "{}"})
    assert response.status_code == 400


def test_save_puts_the_form_into_the_draft(sign_in, engine, sla):
    client = sign_in("po")
    response = client.post("/studio/processes/sla/forms/handle.json", json={"schema": json.dumps(SCHEMA)})
    assert response.status_code == 200
    draft = engine.draft("sla", "po")
    assert draft.base_version == 1
    assert json.loads(draft.files["handle.json"]) == SCHEMA
    assert draft.files["sla.bpmn"] == engine.definition_files("sla", 1)["sla.bpmn"]
    ui = client.post("/studio/processes/sla/forms/handle.json",
                     json={"schema": json.dumps(SCHEMA), "ui": '{"ui:order": ["contacted", "*"]}',
                           "ui_name": "handle.ui.json"})
    assert ui.status_code == 200 and "handle.ui.json" in engine.draft("sla", "po").files


def test_an_invalid_form_is_not_saved(sign_in, engine, sla):
    client = sign_in("po")
    bad = client.post("/studio/processes/sla/forms/handle.json",
                      json={"schema": '{"type": "object", "properties": {"x": {"type": "blob"}}}'})
    assert bad.status_code == 422
    assert "blob" in bad.json["error"]["message"]
    assert engine.draft("sla", "po") is None
    bad_name = client.post("/studio/processes/sla/forms/handle.json",
                           json={"schema": json.dumps(SCHEMA), "ui": "{}", "ui_name": "../ui.json"})
    assert bad_name.status_code == 422
    assert engine.draft("sla", "po") is None


def test_a_saved_form_is_deployed_with_the_next_version(sign_in, engine, sla):
    client = sign_in("po")
    client.post("/studio/processes/sla/forms/handle.json", json={"schema": json.dumps(SCHEMA)})
    files = engine.draft("sla", "po").files
    assert client.post("/studio/processes/sla/deploy", json={"files": files}).json["version"] == 2
    instance = engine.start("sla", by="alice")
    [task] = engine.tasks(instance_id=instance.id)
    assert task.form["schema"] == SCHEMA
