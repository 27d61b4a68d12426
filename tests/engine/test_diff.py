"""Version diff: elements added, removed and changed between two bundles, layout ignored."""

import re

import pytest

from engine.core.bundle import read_bundle
from engine.errors import ProcessNotFound
from engine.studio.diff import diff_versions


@pytest.fixture
def files(order_bundle):
    return read_bundle(order_bundle, [])


def changed(diff):
    return {c.element_id: c.aspects for c in diff.changed}


def test_identical_bundles_have_no_differences(files):
    diff = diff_versions("order", 1, files, 2, dict(files))
    assert diff.empty
    assert diff.as_dict()["added"] == []


def test_each_kind_of_change_is_named(files):
    new = dict(files)
    new["order.bpmn"] = (files["order.bpmn"]
                         .replace('"PT1H"', '"PT2H"')
                         .replace('risk == "high"', 'risk != "low"')
                         .replace('name="Review order"', 'name="Review the order"')
                         .replace('value="capture"', 'value="capture,score"')
                         .replace("score = amount // 100", "score = amount // 50")
                         .replace("<bpmn:flowNodeRef>notify</bpmn:flowNodeRef>", "")
                         .replace("<bpmn:flowNodeRef>remind</bpmn:flowNodeRef>",
                                  "<bpmn:flowNodeRef>remind</bpmn:flowNodeRef><bpmn:flowNodeRef>notify"
                                  "</bpmn:flowNodeRef>"))
    diff = diff_versions("order", 1, files, 2, new)
    assert changed(diff) == {
        "review_reminder": ["timer"], "f_high": ["condition"], "score": ["script"], "notify": ["lane"],
        "review": ["name", "property separationOfDutiesFrom"]}
    assert diff.added == [] and diff.removed == [] and diff.files_changed == []


def test_added_removed_and_retyped_elements(files):
    new = dict(files)
    bpmn = files["order.bpmn"].replace('<bpmn:userTask id="notify"', '<bpmn:manualTask id="notify"')
    bpmn = bpmn.replace("</bpmn:userTask>\n    <bpmn:callActivity", "</bpmn:manualTask>\n    <bpmn:callActivity")
    bpmn = re.sub(r'<bpmn:scriptTask id="remind".*?</bpmn:scriptTask>', '<bpmn:task id="extra" name="Extra" />',
                  bpmn, flags=re.S)
    new["order.bpmn"] = bpmn
    new["checks_form.json"] = "{}"
    diff = diff_versions("order", 1, files, 2, new)
    assert [(c.element_id, c.kind) for c in diff.added] == [("extra", "task")]
    assert [(c.element_id, c.name) for c in diff.removed] == [("remind", "Count reminder")]
    assert changed(diff)["notify"] == ["type"]
    assert diff.files_added == ["checks_form.json"]


def test_form_and_dmn_files_are_compared_as_files(files):
    new = dict(files)
    new["risk.dmn"] = files["risk.dmn"].replace("&gt;= 1000", "&gt;= 2000")
    del new["checks.bpmn"]
    diff = diff_versions("order", 1, files, 2, new)
    assert diff.files_changed == ["risk.dmn"]
    assert diff.files_removed == ["checks.bpmn"]
    assert {c.element_id for c in diff.removed} >= {"stock_check", "checks_start"}


def test_moving_shapes_is_not_a_change(files):
    layout = ('<bpmndi:BPMNDiagram xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
              'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" id="D"><bpmndi:BPMNPlane id="P" bpmnElement="order">'
              '<bpmndi:BPMNShape id="S" bpmnElement="capture"><dc:Bounds x="{x}" y="10" width="100" height="80" />'
              '</bpmndi:BPMNShape></bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>')
    old, new = dict(files), dict(files)
    old["order.bpmn"] = files["order.bpmn"].replace("</bpmn:definitions>", layout.format(x=10))
    new["order.bpmn"] = files["order.bpmn"].replace("</bpmn:definitions>", layout.format(x=400))
    assert diff_versions("order", 1, old, 2, new).empty


def test_engine_diff_of_deployed_versions(engine, order_bundle):
    engine.deploy(order_bundle, by="po")
    bpmn = order_bundle / "order.bpmn"
    bpmn.write_text(bpmn.read_text().replace('"PT1H"', '"PT4H"'))
    engine.deploy(order_bundle, by="po")
    diff = engine.version_diff("order", 1, 2)
    assert (diff.old_version, diff.new_version) == (1, 2)
    assert changed(diff) == {"review_reminder": ["timer"]}
    with pytest.raises(ProcessNotFound):
        engine.version_diff("order", 1, 3)
