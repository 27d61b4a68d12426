"""A manager corrects a failed case's data and retries it from the incident list; the console fits a phone."""


import pytest

from tests.support import give_capture_a_form

from .conftest import MODELS
from .test_team import WIDE

pytestmark = pytest.mark.browser

FORM = {"type": "object", "properties": {"amount": {"type": "integer", "title": "Order amount", "minimum": 1}}}


@pytest.fixture
def incident(make_user, engine, order_bundle):
    make_user("alice", "Agent")
    make_user("sam", "Manager")
    give_capture_a_form(order_bundle, FORM)
    engine.deploy(order_bundle, by="sam")
    instance = engine.start("order", {"customer_name": "ACME"}, by="alice")
    engine.complete(engine.tasks(instance_id=instance.id)[0].id, {}, by="alice")  # the score script fails
    return instance


def test_a_manager_corrects_and_retries_an_incident(incident, sign_in, engine, screenshots):
    page = sign_in("sam")
    page.get_by_role("link", name="Operations").click()
    row = page.locator("tbody tr", has_text=incident.reference)
    assert "Compute score" in row.inner_text()
    page.screenshot(path=str(screenshots / "operations-incidents.png"), full_page=True)
    row.get_by_role("link", name=incident.reference).click()
    correct = page.locator("section[aria-labelledby=correct-title]")
    correct.get_by_label("Field").select_option("amount")
    correct.get_by_label("New value").fill("250")
    correct.get_by_label("Reason").fill("amount confirmed by the client")
    correct.get_by_role("button", name="Save the correction").click()
    page.get_by_text("was changed").wait_for()
    page.get_by_role("link", name="Operations").click()
    page.get_by_label(f"Select {incident.reference}").check()
    page.get_by_role("button", name="Retry selected").click()
    page.get_by_text("1 incident retried").wait_for()
    assert engine.instance(incident.id).status == "running"


def test_the_console_fits_a_phone(incident, sign_in):
    page = sign_in("sam")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/operations/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.evaluate(WIDE)


SCALE = "() => new DOMMatrix(window.getComputedStyle(document.querySelector('#diagram .viewport')).transform).a"


def test_the_process_diagram_counts_cases_and_zooms(make_user, engine, sign_in, screenshots):
    make_user("sam", "Manager", "Onboarding Officer")
    engine.deploy(MODELS / "signoff", by="sam")
    for name in ("Acme", "Umbrella"):
        engine.start("signoff", {"client_name": name}, by="sam")
    page = sign_in("sam")
    page.get_by_role("link", name="Operations").click()
    page.get_by_role("navigation", name="Process diagrams").get_by_role("link", name="Client sign-off").click()
    page.wait_for_selector("#diagram .djs-overlay .count.waiting")
    assert page.locator("#diagram .count.waiting").all_inner_texts() == ["2", "2"]  # the task and its deadline
    assert "Collect documents 2 0" in " ".join(page.locator("table.places").inner_text().split())
    page.screenshot(path=str(screenshots / "operations-process.png"), full_page=True)
    fitted = page.evaluate(SCALE)
    page.get_by_role("button", name="Zoom in").click()
    assert page.evaluate(SCALE) > fitted
    page.get_by_role("button", name="Zoom out").click()
    page.get_by_role("button", name="Zoom out").click()
    assert page.evaluate(SCALE) < fitted
    page.get_by_role("button", name="Fit").click()
    assert abs(page.evaluate(SCALE) - fitted) < 1e-6
