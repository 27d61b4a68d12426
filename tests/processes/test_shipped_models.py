"""The shipped models as files: they deploy, every element is drawn, every human task has a lane and a form."""

import json
from pathlib import Path

import pytest
from lxml import etree

from engine.forms.schema import check_form
from tests.processes.flow import PROCESSES

FORMS = PROCESSES.parent / "forms"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
MODELS = sorted(PROCESSES.glob("*.bpmn"))
PREFIXES = {"complaint_handling": "CMP", "client_onboarding": "ONB", "feedback": "FBK", "suggestion": "SUG",
            "inquiry": "INQ", "kyc_review": "KYC"}
LANES = {
    "complaint_handling": ["Client", "Customer Care Agent", "Supervisor", "Manager"],
    "client_onboarding": ["Client", "Relationship Manager", "Onboarding Officer", "Compliance Officer",
                          "IT/Portal Admin"],
    "inquiry": ["Client", "Customer Care Agent", "Technical Support", "Relationship Manager", "Supervisor"],
    "kyc_review": ["Client", "Compliance Officer"],
}


def test_every_shipped_process_deploys(engine):
    results = engine.deploy_each(PROCESSES)
    assert sorted(r.key for r in results) == sorted(PREFIXES)


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_diagram_draws_every_element_inside_its_lane(path: Path):
    root = etree.parse(str(path)).getroot()
    process = root.find("bpmn:process", NS)
    assert process.get("id") == path.stem
    prefix = process.find("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)
    assert (prefix.get("name"), prefix.get("value")) == ("referencePrefix", PREFIXES[path.stem])
    shapes = {s.get("bpmnElement"): s.find("dc:Bounds", NS) for s in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e.findall("di:waypoint", NS) for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    lanes = {lane.get("id"): lane for lane in process.iterfind("bpmn:laneSet/bpmn:lane", NS)}
    if path.stem in LANES:
        assert [lane.get("name") for lane in lanes.values()] == LANES[path.stem]
    lane_of = {ref.text: lane_id for lane_id, lane in lanes.items() for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
    pool = _box(shapes[root.find(".//bpmn:participant", NS).get("id")])
    for lane_id in lanes:
        assert _inside(_box(shapes[lane_id]), pool), lane_id
    nodes = [n for n in process if n.get("id") and n.tag.split("}")[1] not in ("laneSet", "sequenceFlow")]
    for node in nodes:
        element = node.get("id")
        assert element in shapes, f"{element} has no shape"
        assert element in lane_of, f"{element} is in no lane"
        if node.tag.endswith("boundaryEvent"):
            continue
        assert _inside(_box(shapes[element]), _box(shapes[lane_of[element]])), f"{element} outside its lane"
    for flow in process.iterfind("bpmn:sequenceFlow", NS):
        points = edges[flow.get("id")]
        assert len(points) >= 2, flow.get("id")
        for a, b in zip(points, points[1:], strict=False):  # orthogonal segments only
            assert a.get("x") == b.get("x") or a.get("y") == b.get("y"), flow.get("id")


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_user_tasks_have_a_lane_and_a_form_inside_the_subset(path: Path):
    root = etree.parse(str(path)).getroot()
    lane_refs = {ref.text for ref in root.iterfind(".//bpmn:flowNodeRef", NS)}
    tasks = root.findall(".//bpmn:userTask", NS) + root.findall(".//bpmn:startEvent", NS)
    for task in tasks:
        props = {p.get("name"): p.get("value") for p in task.iterfind(".//spiffworkflow:property", NS)}
        assert task.get("id") in lane_refs
        schema = json.loads((FORMS / props["formJsonSchemaFilename"]).read_text())
        ui = json.loads((FORMS / props["formUiSchemaFilename"]).read_text())
        check_form(schema, ui)


def test_every_form_file_is_used():
    named = set()
    for path in MODELS:
        for prop in etree.parse(str(path)).getroot().iterfind(".//spiffworkflow:property", NS):
            if prop.get("name").startswith("form"):
                named.add(prop.get("value"))
    assert {p.name for p in FORMS.glob("*.json")} == named


def _box(bounds):
    return tuple(float(bounds.get(k)) for k in ("x", "y", "width", "height"))


def _inside(inner, outer) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


FORM_FILES = sorted(p for p in FORMS.glob("*.json") if not p.name.endswith(".ui.json"))


def _bad_values(prop: dict):
    """(kind of mistake, a value that makes it, a word the message must contain) for one field."""
    kind = prop["type"]
    if kind == "string":
        yield "wrong type", ["a", "list"], "text"
        if prop.get("format") == "email":
            yield "bad e-mail", "someone.example.com", "e-mail"
        if prop.get("format") == "date":
            yield "bad date", "31/12/2026", "date"
        if "enum" in prop:
            yield "not a choice", "none_of_these", "choice"
        if "pattern" in prop:
            yield "bad format", "?? not this ??", "format"
    elif kind in ("integer", "number"):
        yield "wrong type", "lots", "choice" if "enum" in prop else "value"
        if "maximum" in prop:
            yield "out of range", prop["maximum"] + 1, "between"
        if "enum" in prop:
            yield "out of range", max(prop["enum"]) + 1, "choice"
    elif kind == "boolean":
        yield "wrong type", "maybe", "yes/no"
    elif kind == "array":
        yield "wrong type", "one", "list"
        yield "not a choice", ["none_of_these"], "choice"


@pytest.mark.parametrize("path", FORM_FILES, ids=[p.stem for p in FORM_FILES])
def test_every_shipped_form_names_each_field_it_refuses(path: Path):
    """Missing required fields, wrong types, bad e-mails and dates, values out of range: each one is named."""
    from engine.errors import InvalidTaskData
    from engine.forms.service import FormService

    forms = FormService()
    schema = json.loads(path.read_text())
    ui_path = path.with_name(path.stem + ".ui.json")
    ui = json.loads(ui_path.read_text()) if ui_path.exists() else None
    readonly = {name for name, field_ui in (ui or {}).items()
                if isinstance(field_ui, dict) and field_ui.get("ui:widget") == "readonly"}
    fields = [(name, prop, None) for name, prop in schema["properties"].items() if name not in readonly]
    fields += [(f"{group}.{name}", prop, group) for group, outer in schema["properties"].items()
               if outer["type"] == "object" for name, prop in outer["properties"].items()]
    required = [name for name in schema.get("required", ()) if not _static_default(schema["properties"][name])]
    required = [f"{name}.{inner}" if inner else name for name in required
                for inner in (schema["properties"][name].get("required", [])
                              if schema["properties"][name]["type"] == "object" else [None])]
    with pytest.raises(InvalidTaskData) as refused:
        forms.clean_with(schema, ui, {name.split(".")[0]: None for name in required}, {})
    for name in required:
        assert "required" in " ".join(refused.value.errors.get(name, [])).lower(), (name, refused.value.errors)
    for path_name, prop, group in fields:
        if prop["type"] == "object":
            continue
        for mistake, value, word in _bad_values(prop):
            short = path_name.split(".")[-1]
            data = {group: {short: value}} if group else {short: value}
            with pytest.raises(InvalidTaskData) as refused:
                forms.clean_with(schema, ui, data, {})
            messages = " ".join(refused.value.errors.get(path_name, [])).lower()
            assert word in messages, (path_name, mistake, refused.value.errors)


def _static_default(prop: dict) -> bool:
    default = prop.get("default")
    return default is not None and not (isinstance(default, str) and "{{" in default)
