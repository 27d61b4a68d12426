"""A sign-off case in the browser (a test model without forms), and one task completed from two browsers."""

import pytest

from .conftest import MODELS

pytestmark = pytest.mark.browser

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && el.labels.length === 0 && !el.getAttribute('aria-label'))
  .map(el => el.name)"""


@pytest.fixture
def staff(make_user, engine):
    make_user("olivia", "Onboarding Officer")
    make_user("cora", "Compliance Officer")
    engine.deploy(MODELS / "signoff", by="olivia")


def marked(page, element_id: str, marker: str) -> bool:
    return page.locator(f'.djs-element.{marker}[data-element-id="{element_id}"]').count() == 1


def wait_for_diagram(page):
    page.wait_for_selector("#diagram .djs-container svg")
    page.wait_for_selector('#diagram[data-rendered]')


def test_collect_sign_off_and_follow_the_diagram(staff, sign_in, engine):
    """A model without forms: the JSON data field, the built-in decision form, the branches taken."""
    olivia = sign_in("olivia")
    olivia.goto("/")
    olivia.get_by_role("link", name="Start").click()
    olivia.get_by_role("button", name="Start").click()
    olivia.wait_for_url("**/tasks/*")
    assert olivia.evaluate(UNLABELLED) == []
    olivia.get_by_role("button", name="Claim", exact=True).click()
    olivia.get_by_text("Claimed by you").wait_for()

    field = olivia.get_by_label("Task data (JSON object)")
    field.fill('{"client_name": "Umbrella Corp", "company_registration": "2019/123456/07"')
    olivia.get_by_role("button", name="Complete task").click()
    olivia.locator("[data-error-summary]").get_by_text("not valid JSON").wait_for()
    assert "2019/123456/07" in olivia.get_by_label("Task data (JSON object)").input_value()  # input kept
    olivia.get_by_label("Task data (JSON object)").fill(
        '{"client_name": "Umbrella Corp", "company_registration": "2019/123456/07"}')
    olivia.get_by_role("button", name="Complete task").click()
    olivia.wait_for_url("**/inbox/")
    olivia.get_by_text("Done: “Collect documents”").wait_for()

    [instance] = engine.list_instances()
    olivia.goto(f"/instances/{instance.id}")
    wait_for_diagram(olivia)
    assert marked(olivia, "collect", "completed") and marked(olivia, "signoff_task", "active")
    assert marked(olivia, "reminder", "timer")

    cora = sign_in("cora")
    cora.goto("/inbox/?view=group")
    assert cora.locator("tr", has_text="Compliance sign-off").count() == 1
    cora.get_by_role("button", name="Claim", exact=True).click()
    cora.get_by_text("Collected information").wait_for()
    assert cora.get_by_text("2019/123456/07").is_visible()
    assert cora.evaluate(UNLABELLED) == []
    cora.get_by_label("Reject").check()
    cora.get_by_role("button", name="Submit decision").click()
    cora.locator("[data-error-summary]").get_by_text("A reason is required to reject").wait_for()
    cora.get_by_label("Approve").check()
    cora.get_by_role("button", name="Submit decision").click()
    cora.wait_for_url("**/inbox/")

    cora.goto(f"/instances/{instance.id}")
    wait_for_diagram(cora)
    for element in ("collect", "signoff_task", "decide", "activate", "end_approved"):
        assert marked(cora, element, "completed"), element
    assert not marked(cora, "signoff_task", "active")
    assert cora.locator('.djs-connection.taken[data-element-id="f_approve"]').count() == 1
    assert cora.locator('.djs-connection.taken[data-element-id="f_more"]').count() == 0
    assert cora.get_by_text("completed", exact=True).first.is_visible()


def test_the_same_task_completed_in_two_browsers(staff, sign_in, engine):
    instance = engine.start("signoff", {"client_name": "Initech"}, by="olivia")
    [task] = engine.tasks(instance_id=instance.id)
    first, second = sign_in("olivia"), sign_in("olivia")
    for page in (first, second):
        page.goto(f"/tasks/{task.id}")
    for page in (first, second):
        page.get_by_label("Task data (JSON object)").fill('{"company_registration": "x"}')
    first.get_by_role("button", name="Complete task").click()
    first.wait_for_url("**/inbox/")
    second.get_by_role("button", name="Complete task").click()
    second.wait_for_url("**/inbox/")
    assert second.locator(".flash.warning", has_text="This task is no longer open").is_visible()
