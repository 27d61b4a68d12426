"""The POPIA s18 notice on every intake form: staff start pages of every shipped process whose start form collects
personal information, the portal's intakes and its survey; one shared notice built from the deployed process."""

import html
import json
import re

import pytest
from lxml import etree

from engine.forms.schema import personal_fields
from tests.processes.flow import PROCESSES
from tests.processes.test_shipped_models import FORMS, NS
from tests.support import client_signed_in
from webapp import signing

PUBLIC_URL = "https://portal.example.com"
PARTY = "Thaba Mining Ltd, 1 Main Road, Middelburg; privacy@thaba.example"
TITLE = "How we use what you tell us"


def intakes() -> dict[str, tuple[str, dict]]:
    """Every shipped process whose start form collects personal fields: its purpose and start form."""
    found = {}
    for path in sorted(PROCESSES.glob("*.bpmn")):
        root = etree.parse(str(path)).getroot()
        purpose = root.find(".//bpmn:process/bpmn:extensionElements//spiffworkflow:property[@name='purpose']", NS)
        start = root.find(".//bpmn:startEvent//spiffworkflow:property[@name='formJsonSchemaFilename']", NS)
        if start is None:
            continue
        schema = json.loads((FORMS / start.get("value")).read_text())
        if personal_fields(schema):
            found[path.stem] = (purpose.get("value"), schema)
    return found


INTAKES = intakes()


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RESPONSIBLE_PARTY": PARTY, "PUBLIC_URL": PUBLIC_URL, "SCHEDULE_JOBS": False,
            "PORTAL_INTAKES": {"complaint": {"key": "complaint_handling", "title": "Log a complaint",
                                             "email_required": True},
                               "suggestion": {"key": "suggestion", "title": "Make a suggestion",
                                              "email_required": False},
                               "inquiry": {"key": "inquiry", "title": "Ask a question", "email_required": False}}}


def words(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def assert_notice(page: str, key: str) -> None:
    purpose, schema = INTAKES[key]
    assert page.count(TITLE) == 1, key
    notice = page.split(TITLE, 1)[1]
    assert f"Who collects it {PARTY}." in notice
    assert f"Why {purpose}" in notice
    for path in personal_fields(schema):
        node = schema
        for part in path.split("."):
            node = node["properties"][part]
        assert node.get("title", part) in notice.split("Must you give it?")[0], (key, path)
    assert "Information Regulator" in notice and "section 18" in notice
    assert "days after the matter is closed" in notice


def test_every_intake_of_the_shipped_processes_is_covered():
    assert sorted(INTAKES) == ["client_onboarding", "complaint_handling", "feedback", "inquiry", "kyc_review",
                               "suggestion"]


@pytest.mark.parametrize("key", sorted(INTAKES))
def test_staff_start_page_shows_the_notice_with_the_process_purpose(app, shipped, staff, key):
    assert_notice(words(client_signed_in(app, "boss").get(f"/processes/{key}/start")), key)


@pytest.mark.parametrize(("slug", "key"), [("complaint", "complaint_handling"), ("suggestion", "suggestion"),
                                           ("inquiry", "inquiry")])
def test_portal_intake_shows_the_notice(client, shipped, slug, key):
    assert_notice(words(client.get(f"/portal/{slug}/new")), key)


def test_portal_survey_shows_the_notice_of_the_feedback_process(app, client, engine, shipped, staff):
    complaint = engine.start("complaint_handling", {"client_name": "Ana Dube", "client_email": "ana@example.com",
                                                    "channel": "email", "category": "delivery",
                                                    "description": "Late again."}, by="agent")
    with app.app_context():
        url = signing.survey_link(complaint.id)
    assert_notice(words(client.get(url.removeprefix(PUBLIC_URL))), "feedback")


def test_a_form_that_collects_nothing_personal_shows_no_notice(app, engine, shipped, staff, tmp_path):
    bundle = tmp_path / "plain"
    bundle.mkdir()
    text = (PROCESSES / "kyc_review.bpmn").read_text()
    (bundle / "kyc_review.bpmn").write_text(text.replace('"kyc_review_start.json"', '"plain.json"')
                                            .replace('"kyc_review_start.ui.json"', '"plain.ui.json"'))
    (bundle / "plain.json").write_text(json.dumps({"type": "object", "properties": {
        "kyc_review_interval": {"type": "string", "enum": ["P1Y"], "title": "Review due after"}}}))
    (bundle / "plain.ui.json").write_text("{}")
    for name in ("kyc_refresh.json", "kyc_refresh.ui.json"):
        (bundle / name).write_text((FORMS / name).read_text())
    (bundle / "onboarding_risk.dmn").write_text((PROCESSES / "onboarding_risk.dmn").read_text())
    engine.deploy(bundle, key="kyc_review", by="process-owner")
    page = words(client_signed_in(app, "boss").get("/processes/kyc_review/start"))
    assert "Review due after" in page and TITLE not in page
