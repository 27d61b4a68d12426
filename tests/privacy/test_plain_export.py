"""The subject access page reads as a person expects: the forms' labels and choice names, local dates and times,
no internal keys or element ids (the shipped onboarding, complaint and KYC processes, not fixtures)."""

import io
import json
import re
import zipfile
from html import unescape
from pathlib import Path

import pytest
from lxml import etree

from engine import privacy
from tests.processes.conftest import shipped  # noqa: F401 - fixture
from tests.processes.flow import PROCESSES, Flow
from tests.processes.test_client_onboarding import ACTIVATION, APPROVE, REQUEST, through_documents
from webapp.web.privacy_export import HTML_NAME, JSON_NAME, sar_bundle

COMPLAINT = {"client_name": "Lerato Dlamini", "client_email": REQUEST["client_email"], "channel": "walk_in",
             "category": "delivery", "description": "The concentrate arrived four days late."}


@pytest.fixture
def staff(make_user):
    for name, role in (("rm", "Relationship Manager"), ("officer", "Onboarding Officer"),
                       ("compliance", "Compliance Officer"), ("agent", "Customer Care Agent")):
        make_user(name, role)


@pytest.fixture
def export(app, engine, shipped, staff):  # noqa: F811 - the imported fixture
    onboarding = Flow(engine, engine.start("client_onboarding", REQUEST, by="rm").id)
    through_documents(onboarding)
    onboarding.complete("compliance_check", APPROVE, by="compliance")
    onboarding.complete("activate_service", ACTIVATION, by="officer")
    complaint = engine.start("complaint_handling", COMPLAINT, by="agent")
    record = privacy.find_subject(engine, REQUEST["client_email"])
    with app.app_context():
        bundle = zipfile.ZipFile(io.BytesIO(sar_bundle(record)))
    page = bundle.read(HTML_NAME).decode()
    words = unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))
    return words, json.loads(bundle.read(JSON_NAME)), onboarding, complaint


def row(words: str, label: str) -> str:
    """The value shown after a label in a two-column table row."""
    found = re.search(re.escape(label) + r" (.+?) (?=[A-Z])", words)
    assert found, label
    return found.group(1)


def test_labels_and_choice_names_instead_of_keys(export):
    words, _, onboarding, _ = export
    assert row(words, "Company registration number") == "2019/123456/07"
    assert row(words, "B-BBEE status") == "Level 2"
    assert row(words, "Bank details: Bank") == "Nedbank"
    assert row(words, "Received via") == "Walk-in"
    assert "Where your case stands received" in words and "Where your case stands active" in words
    assert row(words, "Identity document of a director or signatory") == "an uploaded document"
    assert "yes" in words and "True" not in words and "False" not in words


def test_local_dates_and_times(export, engine, clock):
    words, data, onboarding, _ = export
    assert "Contract signed on 20 March 2026" in words
    local = clock.now().astimezone(__import__("zoneinfo").ZoneInfo("Africa/Johannesburg"))
    assert f"Opened on {local:%Y-%m-%d %H:%M} +02:00" in words
    assert "Times are Africa/Johannesburg time" in words
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:", words), "an ISO timestamp reached the page"
    assert data["instances"][0]["instance"]["started_at"].endswith("+00:00")  # the JSON stays exact


def test_no_internal_keys_or_element_ids(export):
    words, data, onboarding, complaint = export
    keys = {key for case in data["instances"] for key in case["data"]}
    keys |= {key for case in data["instances"] for value in case["data"].values() if isinstance(value, dict)
             for key in value}
    elements = set()
    for path in Path(PROCESSES).glob("*.bpmn"):
        elements |= {e.get("id") for e in etree.parse(str(path)).getroot().iter() if e.get("id")}
    leaked = sorted(k for k in keys | elements if "_" in k and re.search(rf"\b{re.escape(k)}\b", words))
    assert leaked == []
    assert "doc-" not in words and "started_instance_id" not in words
    assert "Step done: Collect documentation" in words and "Case opened" in words
    assert "This case is open" in words and "Automatic step: Apply care-centre settings" in words
    assert "Escalation level" not in words and "Supervisor email" not in words  # the process's working values
