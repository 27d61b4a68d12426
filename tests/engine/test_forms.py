"""The form builder: the JSON Schema subset, the WTForms classes built from it, and server-side cleaning."""

import json

import pytest
from wtforms import Form

from engine.errors import InvalidModel, InvalidTaskData
from engine.forms.schema import SchemaProblem, check_form
from engine.forms.service import FormService, personal_fields

SCHEMA = {
    "type": "object",
    "required": ["name", "email", "age", "decision"],
    "properties": {
        "name": {"type": "string", "title": "Full name", "minLength": 2, "maxLength": 40,
                 "default": "{{ customer_name }}", "x-personal": True},
        "email": {"type": "string", "format": "email", "description": "Where we write to.", "x-personal": True},
        "age": {"type": "integer", "minimum": 18, "maximum": 120},
        "score": {"type": "number", "maximum": 10},
        "born": {"type": "string", "format": "date"},
        "meeting": {"type": "string", "format": "date-time"},
        "consent": {"type": "boolean"},
        "urgent": {"type": "boolean"},
        "decision": {"type": "string", "enum": ["approve", "reject", "more_info"]},
        "reason": {"type": "string", "x-required-if": {"decision": ["reject", "more_info"]}},
        "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "rating": {"type": "integer", "enum": [1, 2, 3, 4, 5]},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["red", "green", "blue"]}, "maxItems": 2},
        "address": {"type": "object", "title": "Postal address", "required": ["street"],
                    "properties": {"street": {"type": "string", "default": "{{ client.street }}"},
                                   "postcode": {"type": "string", "pattern": "^\\d{4}$", "x-sensitive": True}}},
        "reference": {"type": "string", "default": "{{ reference }}"},
        "channel": {"type": "string", "enum": ["web", "phone"], "default": "web"},
    },
}
UI = {
    "ui:order": ["decision", "reason", "*", "reference"],
    "reason": {"ui:widget": "textarea", "ui:help": "Say why.", "ui:placeholder": "Because..."},
    "urgent": {"ui:widget": "radio"},
    "rating": {"ui:widget": "radio", "ui:enumNames": ["awful", "poor", "fair", "good", "great"]},
    "tags": {"ui:widget": "checkbox"},
    "reference": {"ui:widget": "readonly"},
    "channel": {"ui:widget": "hidden"},
    "address": {"ui:order": ["postcode", "street"]},
}
GOOD = {"name": "Ann Smith", "email": "ann@example.com", "age": 30, "decision": "approve"}


@pytest.fixture
def forms():
    return FormService()


def clean(forms, data, context=None, schema=SCHEMA, ui=UI):
    return forms.clean_with(schema, ui, data, context or {})


def errors_of(forms, data, context=None, schema=SCHEMA, ui=UI) -> dict[str, list[str]]:
    with pytest.raises(InvalidTaskData) as refused:
        clean(forms, data, context, schema, ui)
    return refused.value.errors


# -- building -------------------------------------------------------------------------------------------

def test_fields_follow_ui_order_with_labels_help_and_widgets(forms):
    form = forms.form_class(SCHEMA, UI)()
    names = [f.name for f in form]
    assert names[:2] == ["decision", "reason"] and names[-1] == "reference"
    assert names[2:5] == ["name", "email", "age"]
    assert form.name.label.text == "Full name"
    assert form.born.label.text == "Born"
    assert form.email.description == "Where we write to."
    assert form.reason.description == "Say why."
    assert form.reason.type == "TextAreaField" and 'placeholder="Because..."' in form.reason()
    assert form.email.type == "EmailField" and 'type="email"' in form.email()
    assert 'type="date"' in form.born()
    assert form.decision.type == "SelectField"
    assert form.urgent.type == "RadioField" and "Yes" in form.urgent()
    assert [label for _, label in form.rating.choices] == ["awful", "poor", "fair", "good", "great"]
    assert form.tags.type == "SelectMultipleField" and 'type="checkbox"' in form.tags()
    assert form.reference.render_kw["readonly"] is True
    assert form.channel.type == "HiddenField"
    assert [f.short_name for f in form.address.form] == ["postcode", "street"]
    assert 'name="address-street"' in form.address()


def test_optional_select_offers_a_blank_choice_and_required_does_not(forms):
    form = forms.form_class(SCHEMA, UI)()
    assert form.decision.choices[0][0] == "approve"
    optional = forms.form_class({"type": "object", "properties": {"pick": {"type": "string", "enum": ["a"]}}})()
    assert optional.pick.choices[0] == ("", "—")


def test_classes_are_built_once_per_content_and_may_take_a_base(forms):
    assert forms.form_class(SCHEMA, UI) is forms.form_class(json.loads(json.dumps(SCHEMA)), dict(UI))
    assert forms.form_class(SCHEMA, UI) is not forms.form_class(SCHEMA, None)

    class WithCsrf(Form):
        marker = True
    built = forms.form_class(SCHEMA, UI, base=WithCsrf)
    assert issubclass(built, WithCsrf)


def test_initial_data_resolves_defaults_from_process_data(forms):
    context = {"customer_name": "ACME Ltd", "client": {"street": "1 Main Rd"}, "reference": "CMP-2026-000001"}
    assert forms.initial_data(SCHEMA, context) == {
        "name": "ACME Ltd", "address": {"street": "1 Main Rd"}, "reference": "CMP-2026-000001", "channel": "web"}
    assert forms.initial_data(SCHEMA, {}) == {"channel": "web"}
    form = forms.form_class(SCHEMA, UI)(data=forms.initial_data(SCHEMA, context))
    assert form.name.data == "ACME Ltd" and form.address.form.street.data == "1 Main Rd"


def test_date_fields_take_iso_strings_as_initial_data(forms):
    form = forms.form_class(SCHEMA, UI)(data={"born": "2001-02-03", "meeting": "2026-01-02T09:30:00+02:00"})
    assert 'value="2001-02-03"' in form.born()
    assert form.meeting.data.hour == 9


# -- cleaning -------------------------------------------------------------------------------------------

def test_clean_converts_types_and_drops_unknown_fields(forms):
    cleaned = clean(forms, {**GOOD, "age": "41", "score": 7, "born": "2001-02-03", "meeting": "2026-01-02T09:30Z",
                            "consent": True, "urgent": "false", "rating": "4", "tags": ["red", "blue"],
                            "address": {"street": " 1 Main Rd ", "postcode": "0181"}, "is_admin": True,
                            "reference": "forged", "channel": "phone"})
    assert cleaned == {
        "name": "Ann Smith", "email": "ann@example.com", "age": 41, "score": 7.0, "born": "2001-02-03",
        "meeting": "2026-01-02T09:30:00+00:00", "consent": True, "urgent": False, "decision": "approve",
        "reason": None, "code": None, "rating": 4, "tags": ["red", "blue"],
        "address": {"street": "1 Main Rd", "postcode": "0181"}, "channel": "phone"}
    assert json.loads(json.dumps(cleaned)) == cleaned


def test_absent_fields_take_their_defaults_and_checkboxes_are_false(forms):
    cleaned = clean(forms, {"email": "ann@example.com", "age": 30, "decision": "approve"},
                    context={"customer_name": "ACME Ltd"})
    assert cleaned["name"] == "ACME Ltd"
    assert cleaned["consent"] is False and cleaned["urgent"] is None
    assert cleaned["tags"] == [] and cleaned["channel"] == "web"
    assert cleaned["address"] is None  # optional group left empty: its own required fields do not apply


def test_explicit_null_overrides_a_default(forms):
    assert "name" in errors_of(forms, {**GOOD, "name": None}, context={"customer_name": "ACME Ltd"})


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"name": None}, "name", "This field is required."),
    ({"name": "   "}, "name", "This field is required."),
    ({"name": "A"}, "name", "Field must be between 2 and 40 characters long."),
    ({"name": 12}, "name", "Expected text."),
    ({"email": "ann.example.com"}, "email", "Not a valid e-mail address."),
    ({"age": 17}, "age", "Number must be between 18 and 120."),
    ({"age": "old"}, "age", "Not a valid integer value."),
    ({"age": 30.5}, "age", "Not a valid integer value."),
    ({"age": True}, "age", "Not a valid integer value."),
    ({"score": 11}, "score", "Number must be at most 10."),
    ({"born": "03/02/2001"}, "born", "Not a valid date value."),
    ({"meeting": "tomorrow"}, "meeting", "Not a valid datetime value."),
    ({"decision": "maybe"}, "decision", "Not a valid choice."),
    ({"decision": "reject"}, "reason", "This field is required when decision is reject."),
    ({"code": "abc"}, "code", "Not in the expected format."),
    ({"rating": 9}, "rating", "Not a valid choice."),
    ({"tags": ["red", "pink"]}, "tags", "'pink' is not a valid choice for this field."),
    ({"tags": ["red", "green", "blue"]}, "tags", "Choose at most 2."),
    ({"tags": "red"}, "tags", "Expected a list of choices."),
    ({"consent": "perhaps"}, "consent", "Not a valid yes/no value."),
    ({"address": {"postcode": "1234"}}, "address.street", "This field is required."),
    ({"address": {"street": "x", "postcode": "12"}}, "address.postcode", "Not in the expected format."),
    ({"address": "1 Main Rd"}, "address", "Expected a group of fields (a JSON object)."),
    ({"channel": "fax"}, "channel", "Invalid value, must be one of: web, phone."),
])
def test_bad_data_is_refused_with_the_field_named(forms, change, field, message):
    errors = errors_of(forms, {**GOOD, **change})
    assert errors[field] == [message], errors
    assert list(errors) == [field]


def test_several_problems_are_reported_together(forms):
    errors = errors_of(forms, {"email": "nope", "age": 3})
    assert set(errors) == {"name", "email", "age", "decision"}


def test_readonly_fields_are_never_taken_from_a_submission(forms):
    assert "reference" not in clean(forms, {**GOOD, "reference": "CMP-9999-999999"})


def test_a_task_without_a_form_takes_any_json_object(forms, engine):
    from engine.core.bundle import BuiltModel

    model = BuiltModel("p", "p", None, {}, {})
    assert forms.clean(model, None, None, {"anything": [1, {"x": None}]}, {}) == {"anything": [1, {"x": None}]}
    with pytest.raises(InvalidTaskData) as refused:
        forms.clean(model, None, None, ["not", "an", "object"], {})
    assert "__all__" in refused.value.errors


def test_personal_fields_are_listed_by_path():
    assert personal_fields(SCHEMA) == {"name": "personal", "email": "personal", "address.postcode": "sensitive"}
    assert FormService.personal_fields(SCHEMA) == personal_fields(SCHEMA)


# -- the subset -----------------------------------------------------------------------------------------

def _with(prop: dict | None = None, ui: dict | None = None, **root):
    schema = {"type": "object", "properties": {"field": prop or {"type": "string"}}, **root}
    return schema, ui


@pytest.mark.parametrize(("schema", "ui", "message"), [
    ([], None, "must be a JSON object"),
    ({"properties": {}}, None, '"type": "object"'),
    (*_with({"type": "strin"}), "type 'strin' is not supported"),
    (*_with({"type": "string", "oneOf": []}), "keyword 'oneOf' is not supported"),
    (*_with({"type": "integer", "exclusiveMinimum": 0}), "keyword 'exclusiveMinimum' is not supported"),
    (*_with({"type": "string", "pattern": "(unclosed"}), "not a valid regular expression"),
    (*_with({"type": "string", "enum": "a,b"}), "'enum' must be a non-empty list"),
    (*_with({"type": "integer", "enum": [1, "2"]}), "every 'enum' value must be of type integer"),
    (*_with({"type": "string", "format": "uri"}), "format 'uri' is not supported"),
    (*_with({"type": "string", "minLength": 5, "maxLength": 2}), "'minLength' is greater than 'maxLength'"),
    (*_with({"type": "array", "items": {"type": "string"}}), "'items' needs a type and an 'enum'"),
    (*_with({"type": "object", "properties": {"inner": {"type": "object", "properties": {}}}}),
     "objects may nest one level only"),
    (*_with({"type": "string", "default": "{{ a + b }}"}), "no expressions"),
    (*_with({"type": "string", "default": "{{ _secret }}"}), "no expressions"),
    (*_with({"type": "integer", "default": "7"}), "'default' must be of type integer"),
    (*_with({"type": "string", "x-personal": "yes"}), "'x-personal' must be true or false"),
    (*_with({"type": "string", "x-required-if": {"nope": ["x"]}}), "not a sibling field"),
    (*_with(required=["missing"]), "required property 'missing' is not defined"),
    ({"type": "object", "properties": {"data": {"type": "string"}}}, None, "names must be identifiers"),
    ({"type": "object", "properties": {"my-field": {"type": "string"}}}, None, "names must be identifiers"),
    (*_with(ui={"field": {"ui:widget": "slider"}}), "widget 'slider' is unknown"),
    (*_with({"type": "integer"}, ui={"field": {"ui:widget": "textarea"}}), "does not fit a integer field"),
    (*_with(ui={"other": {"ui:widget": "textarea"}}), "'other' is not a field of the form"),
    (*_with(ui={"ui:order": ["field", "ghost"]}), "'ui:order' names 'ghost'"),
    (*_with(ui={"field": {"ui:options": {}}}), "'ui:options' is not supported"),
    (*_with({"type": "string", "enum": ["a", "b"]}, ui={"field": {"ui:enumNames": ["A"]}}),
     "one label per choice"),
])
def test_schemas_outside_the_subset_are_refused(schema, ui, message):
    with pytest.raises(SchemaProblem, match=_literal(message)):
        check_form(schema, ui)


def test_form_class_reports_a_bad_schema_as_an_invalid_model(forms):
    with pytest.raises(InvalidModel, match="type 'text' is not supported"):
        forms.form_class({"type": "object", "properties": {"x": {"type": "text"}}})


def test_the_shipped_example_of_every_keyword_is_inside_the_subset():
    check_form(SCHEMA, UI)


def _literal(text: str) -> str:
    import re

    return re.escape(text)


# -- deploy time and the facade -------------------------------------------------------------------------

MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="x">
  <bpmn:process id="formtest" isExecutable="true">
    <bpmn:startEvent id="start">{start_form}<bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="fill_in" name="Fill in">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="{form}" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="free" name="No form"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fill_in" />
    <bpmn:sequenceFlow id="f2" sourceRef="fill_in" targetRef="free" />
    <bpmn:sequenceFlow id="f3" sourceRef="free" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""
START_FORM = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
              'name="formJsonSchemaFilename" value="start.json" /></spiffworkflow:properties></bpmn:extensionElements>')
TASK_FORM = {"type": "object", "required": ["amount"],
             "properties": {"amount": {"type": "integer", "minimum": 1},
                            "who": {"type": "string", "default": "{{ customer }}"}}}


def _bundle(tmp_path, form="task.json", forms=None, start_form=False):
    folder = tmp_path / "formtest"
    folder.mkdir()
    (folder / "formtest.bpmn").write_text(MODEL.format(form=form, start_form=START_FORM if start_form else ""))
    for name, content in (forms or {"task.json": TASK_FORM}).items():
        (folder / name).write_text(json.dumps(content))
    return folder


def test_deploy_refuses_a_missing_form_file(engine, tmp_path):
    with pytest.raises(InvalidModel) as refused:
        engine.deploy(_bundle(tmp_path, form="nowhere.json"))
    assert refused.value.element_id == "fill_in" and "nowhere.json" in str(refused.value)


def test_deploy_refuses_a_schema_outside_the_subset_naming_file_and_element(engine, tmp_path):
    bad = {"type": "object", "properties": {"amount": {"type": "integer", "enum": "1,2"}}}
    with pytest.raises(InvalidModel) as refused:
        engine.deploy(_bundle(tmp_path, forms={"task.json": bad}))
    assert (refused.value.file, refused.value.element_id) == ("task.json", "fill_in")
    assert "'enum' must be a non-empty list" in str(refused.value)


def test_task_form_gives_the_class_and_values_and_complete_cleans(engine, tmp_path, make_user):
    make_user("ann")
    engine.deploy(_bundle(tmp_path))
    started = engine.start("formtest", {"customer": "ACME Ltd"}, by="ann")
    [task] = engine.tasks(instance_id=started.id)
    form_class, initial = engine.task_form(task.id)
    assert initial == {"who": "ACME Ltd"}
    assert [f.name for f in form_class(data=initial)] == ["amount", "who"]
    with pytest.raises(InvalidTaskData) as refused:
        engine.complete(task.id, {"amount": 0}, by="ann")
    assert refused.value.errors == {"amount": ["Number must be at least 1."]}
    assert engine.instance(started.id).lock_version == started.lock_version
    engine.complete(task.id, {"amount": "3", "extra": "dropped"}, by="ann")
    [free] = engine.tasks(instance_id=started.id)
    assert engine.task_form(free.id) == (None, {})
    data = engine.instance_detail(started.id).data
    assert (data["amount"], data["who"], "extra" in data) == (3, "ACME Ltd", False)


def test_start_data_is_cleaned_against_the_start_event_form(engine, tmp_path, make_user):
    make_user("ann")
    start = {"type": "object", "required": ["customer"], "properties": {"customer": {"type": "string"}}}
    engine.deploy(_bundle(tmp_path, start_form=True, forms={"task.json": TASK_FORM, "start.json": start}))
    form_class, initial = engine.start_form("formtest")
    assert [f.name for f in form_class()] == ["customer"] and initial == {}
    with pytest.raises(InvalidTaskData) as refused:
        engine.start("formtest", {"client": "typo"}, by="ann")
    assert refused.value.errors == {"customer": ["This field is required."]}
    started = engine.start("formtest", {"customer": "ACME Ltd", "extra": 1}, by="ann")
    data = engine.instance_detail(started.id).data
    assert data["customer"] == "ACME Ltd" and "extra" not in data
