"""Milestones: the mapping for the shipped models matches their element ids; other models follow the convention."""

from pathlib import Path

import pytest
from lxml import etree

from engine.reports.milestones import MILESTONES, PROCESS_MILESTONES, milestone_map

PROCESSES = Path(__file__).resolve().parents[2] / "processes"


def element_ids(key: str) -> set[str]:
    return {node.get("id") for node in etree.parse(str(PROCESSES / f"{key}.bpmn")).iter() if node.get("id")}


@pytest.mark.parametrize("key", sorted(PROCESS_MILESTONES))
def test_mapped_elements_exist_in_the_shipped_models(key):
    ids = element_ids(key)
    for milestone, elements in PROCESS_MILESTONES[key].items():
        assert milestone in MILESTONES
        assert set(elements) <= ids, f"{key}: {milestone} names elements the model does not have"


def test_unmapped_processes_follow_the_naming_convention(engine, rows):
    rows.definition("intake", ("acknowledge_request", "resolve_request", "reopen_request", "sla_breach_timer",
                               "escalate_case", "activate_account", "compliance_review", "unrelated"))
    rows.definition("complaint_handling")
    with engine.sql_engine.connect() as conn:
        found = milestone_map(conn)
    assert found.of("acknowledged") >= {("intake", "acknowledge_request"), ("complaint_handling",
                                                                           "send_acknowledgement")}
    assert ("intake", "sla_breach_timer") in found.of("breached")
    assert found.keys("compliance_gate") == ["intake"] and found.keys("activated") == ["intake"]
    assert not any(element == "unrelated" for pairs in found.pairs.values() for _, element in pairs)


def test_overrides_replace_the_convention_for_a_process(engine, rows):
    rows.definition("intake", ("acknowledge_request", "say_hello"))
    with engine.sql_engine.connect() as conn:
        found = milestone_map(conn, {"intake": {"acknowledged": ("say_hello",)}})
    assert found.of("acknowledged") == {("intake", "say_hello")}
    assert found.keys("resolved") == []
