"""An agent saves a draft, lets the session expire mid-form and gets the typed answers back after signing in."""

import pytest

from tests.support import PASSWORD

from .conftest import MODELS

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}  # an expired session fails the CSRF check, as in production


@pytest.fixture
def task(make_user, engine):
    make_user("olivia", "Onboarding Officer")
    engine.deploy(MODELS / "signoff", by="olivia")
    instance = engine.start("signoff", {"client_name": "Acme"}, by="olivia")
    found = engine.tasks(instance_id=instance.id)[0]
    engine.claim(found.id, "olivia")
    return found


def test_draft_and_session_expiry_keep_the_answers(task, sign_in, engine):
    page = sign_in("olivia")
    page.goto(f"/tasks/{task.id}")
    answers = page.get_by_label("Task data (JSON object)")
    answers.fill('{"vat": "41"}')
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Draft saved: your answers").wait_for()
    assert page.get_by_label("Task data (JSON object)").input_value() == '{"vat": "41"}'
    page.get_by_label("Task data (JSON object)").fill('{"vat": "4123456789"}')
    page.context.clear_cookies()  # the session ends while the form is open
    page.get_by_role("button", name="Complete task").click()
    page.wait_for_url("**/login?next=**")
    page.get_by_label("User name").fill("olivia")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/tasks/{task.id}?kept=1")
    assert page.get_by_label("Task data (JSON object)").input_value() == '{"vat": "4123456789"}'
    assert page.get_by_text("Your session ended before these answers were sent").is_visible()
    page.get_by_role("button", name="Complete task").click()
    page.wait_for_url("**/inbox/")
    assert engine.tasks(instance_id=task.instance_id)[0].element_id == "signoff_task"
