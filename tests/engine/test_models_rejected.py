"""Untrusted BPMN: entity tricks are refused without reading a file; broken models name file, element, line."""

import pytest

from engine.errors import InvalidModel
from tests.support import FIXTURES

BAD = FIXTURES / "bad"


def deploy_error(engine, name) -> InvalidModel:
    with pytest.raises(InvalidModel) as caught:
        engine.deploy(BAD / name)
    assert engine.processes(all_versions=True) == []
    return caught.value


def test_external_entity_is_refused_without_reading_the_file(engine, monkeypatch):
    opened = []
    real_open = open

    def spy(path, *args, **kwargs):
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", spy)
    error = deploy_error(engine, "xxe.bpmn")
    assert "document type declarations" in str(error)
    assert error.file == "xxe.bpmn"
    assert "/etc/passwd" not in opened


def test_entity_expansion_bomb_is_refused(engine):
    error = deploy_error(engine, "bomb.bpmn")
    assert "document type declarations" in str(error)


def test_malformed_xml_names_file_and_line(engine):
    error = deploy_error(engine, "malformed.bpmn")
    assert error.file == "malformed.bpmn"
    assert error.line == 5
    assert "malformed XML" in str(error)


def test_unknown_element_is_reported_with_its_id(engine):
    error = deploy_error(engine, "unknown_element.bpmn")
    assert error.file == "unknown_element.bpmn"
    assert "teleportTask" in str(error)
    assert error.line == 5


def test_flow_to_missing_element_names_the_flow(engine):
    error = deploy_error(engine, "dangling_flow.bpmn")
    assert error.element_id in {"g", "task_a"}
    assert error.line is not None


def test_not_a_bpmn_file(engine, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(InvalidModel, match=r"expected a .bpmn \(or .bpmn20.xml\) file"):
        engine.deploy(text)
    with pytest.raises(InvalidModel, match="no such file"):
        engine.deploy(tmp_path / "missing.bpmn")


def test_bad_process_key_is_refused(engine, order_bundle):
    from engine.errors import InvalidInput

    with pytest.raises(InvalidInput, match="invalid process key"):
        engine.deploy(order_bundle, key="Bad Key!")
