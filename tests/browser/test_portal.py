"""In the browser: a client logs a complaint, gets the reference by mail (aiosmtpd), tracks it, answers the survey;
and a client says from the status page that a resolved complaint is not resolved."""

import re
from datetime import UTC, datetime

import pytest

from engine import ManualClock
from tests.portal.support import RESOLVED, complete, deploy_models, mail_text, portal_config, send_pending
from tests.worker.fixtures import redis_db, run_redis  # noqa: F401 - fixtures are found by name
from tests.worker.harness import SmtpServer

pytestmark = pytest.mark.browser

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && el.labels.length === 0 && !el.getAttribute('aria-label'))
  .map(el => el.name)"""


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_config(app_config, smtp_server):
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    return {**portal_config(app_config, clock), "SMTP_URL": smtp_server.url}


@pytest.fixture
def models(engine, make_user):
    deploy_models(engine)
    make_user("agent", "Customer Care Agent", password=None)
    make_user("supervisor", "Supervisor", password=None)


def mail_to(smtp_server, address: str, subject_start: str):
    found = [m for m in smtp_server.messages if m["To"] == address and m["Subject"].startswith(subject_start)]
    assert len(found) == 1, [m["Subject"] for m in smtp_server.messages]
    return found[0]


def link_in(message, base: str, kind: str) -> str:
    return re.search(rf"{re.escape(base)}/portal/{kind}\S*", mail_text(message)).group(0).rstrip(".")


def test_client_logs_tracks_and_answers_the_survey(app, engine, models, live_server, new_page, smtp_server,
                                                    redis_db):  # noqa: F811 - the fixture, by name
    app.config["PUBLIC_URL"] = live_server  # links in mails lead to this server
    client = new_page()
    client.goto("/portal/")
    client.get_by_role("link", name="Log a complaint").click()
    assert client.evaluate(UNLABELLED) == []
    client.get_by_label("What happened?").fill("The delivery came 12 days late and nobody told us.")
    client.get_by_label("What is it about?").select_option(label="Delivery and logistics")
    client.get_by_label("Your name").fill("Thandi Mokoena")
    client.get_by_label("E-mail address").fill("thandi@example.com")
    client.get_by_role("button", name="Send").click()
    client.wait_for_url("**/portal/received")
    reference = client.locator("[data-reference]").inner_text().strip()
    assert re.fullmatch(r"CMP-\d{4}-\d{6}", reference)

    instance = engine.instance_by_reference(reference)
    send_pending(app, engine, redis_db.client)  # acknowledged at receipt, before anyone registers it
    acknowledgement = mail_to(smtp_server, "thandi@example.com", "We have received your complaint")
    complete(engine, instance.id, "register", {"severity": "medium", "handler_email": "agent@example.com"})
    assert reference in acknowledgement["Subject"]

    client.goto(link_in(acknowledgement, live_server, "track"))
    assert client.get_by_label("Reference number").input_value() == reference
    client.get_by_label("E-mail address you gave us").fill("thandi@example.com")
    client.get_by_role("button", name="Show the status").click()
    client.get_by_text("Being investigated.").wait_for()
    assert "agent" not in client.content()

    complete(engine, instance.id, "investigate", RESOLVED)
    complete(engine, instance.id, "review_decision", {"review_outcome": "approve"}, by="supervisor")
    complete(engine, instance.id, "follow_up", {"contacted_via": "phone", "client_satisfied": True})
    send_pending(app, engine, redis_db.client)
    invitation = mail_to(smtp_server, "thandi@example.com", "How did we do?")
    survey = link_in(invitation, live_server, "survey")
    client.goto(survey)
    client.get_by_text(reference).wait_for()
    client.get_by_label("5 - very satisfied").check()
    client.get_by_label("Comments").fill("Sorted out in a day, thank you.")
    client.get_by_role("button", name="Send my answer").click()
    client.get_by_role("heading", name="Thank you").wait_for()

    [answer] = engine.list_instances(key="feedback")
    data = engine.instance_detail(answer.id).data
    assert (data["about_reference"], data["rating"]) == (reference, 5)
    client.goto(survey)
    client.get_by_role("heading", name="This link has been used already").wait_for()


def test_a_client_says_not_resolved_from_the_status_page(engine, models, new_page):
    started = engine.start("complaint_handling", {"channel": "website", "client_email": "thandi@example.com",
                                                  "client_name": "Thandi Mokoena",
                                                  "category": "delivery", "description": "The delivery was late."},
                           by="agent")
    complete(engine, started.id, "register", {"severity": "medium", "handler_email": "agent@example.com"})
    complete(engine, started.id, "investigate", RESOLVED)
    complete(engine, started.id, "review_decision", {"review_outcome": "approve"}, by="supervisor")
    client = new_page()
    client.set_viewport_size({"width": 390, "height": 844})
    client.goto("/portal/track")
    client.get_by_label("Reference number").fill(started.reference)
    client.get_by_label("E-mail address you gave us").fill("thandi@example.com")
    client.get_by_role("button", name="Show the status").click()
    client.get_by_role("heading", name="Not resolved?").wait_for()
    assert client.evaluate(UNLABELLED) == []
    assert client.evaluate("document.documentElement.scrollWidth") <= 390
    reopen = client.get_by_role("button", name="It is not resolved: reopen my case")
    reopen.click()
    client.get_by_text("Tell us what is still wrong, so we can put it right.").wait_for()
    engine.live.clear()
    assert [t.element_id for t in engine.tasks(instance_id=started.id)] == ["follow_up"]  # nothing saved
    client.get_by_label("What is still wrong?").fill("The refund has still not reached my account.")
    reopen.click()
    client.get_by_text("We have reopened your case").wait_for()
    assert client.get_by_role("heading", name="Not resolved?").count() == 0
    engine.live.clear()
    data = engine.instance_detail(started.id).data
    assert (data["reopened_by"], data["reopen_reason"]) == ("client", "The refund has still not reached my account.")
    assert [t.element_id for t in engine.tasks(instance_id=started.id)] == ["investigate"]
