"""Models as other tools write them deploy: Camunda file names, `Process_1` ids, several processes per file, the
DMN tables beside a single file; and the refusals name what is wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.errors import InvalidModel
from tests.engine.test_status_truth import END, HEAD, START, flows, model, timer_model

ROOT = Path(__file__).resolve().parents[2]


def two_processes() -> str:
    def process(pid: str, n: int) -> str:
        return (f'<bpmn:process id="{pid}" isExecutable="true"><bpmn:startEvent id="s{n}"><bpmn:outgoing>f{n}'
                f'</bpmn:outgoing></bpmn:startEvent><bpmn:endEvent id="e{n}"><bpmn:incoming>f{n}</bpmn:incoming>'
                f'</bpmn:endEvent><bpmn:sequenceFlow id="f{n}" sourceRef="s{n}" targetRef="e{n}"/></bpmn:process>')
    return HEAD + process("Process_1", 1) + process("Process_2", 2) + "</bpmn:definitions>\n"


def test_bpmn20_xml_files_deploy_like_bpmn(engine, tmp_path):
    path = tmp_path / "Order Intake.bpmn20.xml"
    path.write_text(timer_model("PT1H"))
    result = engine.deploy(path)
    assert result.key == "order_intake" and result.created
    assert "Order Intake.bpmn" in engine.definition_files("order_intake")


def test_several_process_1_style_processes_in_one_file_are_each_deployable(engine, tmp_path):
    path = tmp_path / "diagram.bpmn"
    path.write_text(two_processes())
    with pytest.raises(InvalidModel, match=r"--key process_1 \(Process_1\), --key process_2 \(Process_2\)"):
        engine.deploy(path)
    assert engine.deploy(path, key="process_2").process_ids == ["Process_2"]
    assert [r.key for r in engine.deploy_each(path)] == ["process_1", "process_2"]
    assert engine.start("process_1").status == "completed"


def test_a_self_calling_process_is_the_one_started(engine, tmp_path):
    body = START + '<bpmn:callActivity id="again" calledElement="selfish"><bpmn:incoming>f1</bpmn:incoming>' \
        '<bpmn:outgoing>f9</bpmn:outgoing></bpmn:callActivity>' + END
    body += flows(("f1", "s", "again"), ("f9", "again", "e"))
    result = engine.deploy_files({"selfish.bpmn": model("selfish", body)}, "selfish")
    assert result.process_ids[0] == "selfish"


def test_a_dangling_sequence_flow_names_the_missing_element(engine):
    broken = timer_model("PT1H").replace('targetRef="e"', 'targetRef="nowhere"')
    with pytest.raises(InvalidModel, match='f9 has targetRef="nowhere", but waiting holds no element') as refused:
        engine.deploy_files({"waiting.bpmn": broken}, "waiting")
    assert refused.value.element_id == "f9"


def test_a_single_file_deploy_picks_up_the_dmn_beside_it(engine, tmp_path):
    """docs/modelling.md: `clientflow deploy processes/complaint_handling.bpmn`."""
    for name in ("complaint_handling.bpmn", "complaint_handling.sla.json", "complaint_sla.dmn", "complaint_triage.dmn",
                 "feedback.bpmn"):
        shutil.copy(ROOT / "processes" / name, tmp_path / name)
    result = engine.deploy(tmp_path / "complaint_handling.bpmn")
    files = engine.definition_files(result.key)
    assert "complaint_sla.dmn" in files and "complaint_handling.sla.json" in files and "feedback.bpmn" not in files


def test_a_single_file_deploy_without_a_file_its_process_names_says_which(engine, tmp_path):
    shutil.copy(ROOT / "processes" / "complaint_handling.bpmn", tmp_path / "complaint_handling.bpmn")
    shutil.copy(ROOT / "processes" / "complaint_sla.dmn", tmp_path / "complaint_sla.dmn")
    shutil.copy(ROOT / "processes" / "complaint_triage.dmn", tmp_path / "complaint_triage.dmn")
    with pytest.raises(InvalidModel, match="names SLA file 'complaint_handling.sla.json', which is not in the bundle"):
        engine.deploy(tmp_path / "complaint_handling.bpmn")


def test_a_dmn11_xml_table_is_found_by_decision_id(engine, tmp_path):
    for name in ("complaint_handling.bpmn", "complaint_handling.sla.json", "complaint_triage.dmn"):
        shutil.copy(ROOT / "processes" / name, tmp_path / name)
    shutil.copy(ROOT / "processes" / "complaint_sla.dmn", tmp_path / "sla_rules.dmn11.xml")
    result = engine.deploy(tmp_path / "complaint_handling.bpmn")
    assert "sla_rules.dmn" in engine.definition_files(result.key)
