"""A supervisor reassigns a stuck task; an agent searches, sorts and saves a view; staff pages fit a phone."""

import pytest

from .conftest import MODELS

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# The elements reaching past a phone's width, to say what to fix when a page scrolls sideways.
WIDE = """() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)
  .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 6)"""


@pytest.fixture
def cases(make_user, engine):
    make_user("olivia", "Onboarding Officer", email="olivia@example.com")
    make_user("oscar", "Onboarding Officer", email="oscar@example.com")
    make_user("sam", "Supervisor", email="sam@example.com")
    engine.deploy(MODELS / "signoff", by="olivia")
    started = [engine.start("signoff", {"client_name": name}, by="olivia")
               for name in ("Acme Holdings", "Blue Ridge Mining", "Cobalt Logistics")]
    stuck = engine.tasks(instance_id=started[0].id)[0]
    engine.claim(stuck.id, "olivia")  # olivia claimed it and went on leave
    return started, stuck


def test_a_supervisor_reassigns_a_stuck_task(cases, sign_in, engine, screenshots):
    started, stuck = cases
    page = sign_in("sam")
    page.get_by_role("link", name="Team tasks").click()
    row = page.locator("tbody tr", has_text=started[0].reference)
    assert row.locator("td.assignee").inner_text() == "olivia"
    page.screenshot(path=str(screenshots / "inbox-team.png"), full_page=True)
    row.get_by_role("link", name="Manage").click()
    page.get_by_label("Assign to").select_option("oscar")
    page.get_by_role("button", name="Assign", exact=True).click()
    page.get_by_text("is now with oscar").wait_for()
    assert engine.task(stuck.id).claimed_by == "oscar"
    page.goto("/inbox/?view=team")
    for instance in started[1:]:
        page.get_by_label(f"Select Collect documents of {instance.reference}").check()
    page.get_by_label("Assign to").select_option("olivia")
    page.get_by_role("button", name="Assign selected").click()
    page.get_by_text("2 tasks assigned to olivia").wait_for()
    assert [engine.tasks(instance_id=i.id)[0].claimed_by for i in started] == ["oscar", "olivia", "olivia"]


def test_an_agent_searches_sorts_and_saves_a_view(cases, sign_in):
    started, _ = cases
    page = sign_in("oscar")
    page.goto("/inbox/?view=group")
    page.get_by_label("Search").fill("cobalt")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=cobalt**")
    assert page.locator("tbody tr").count() == 1 and started[2].reference in page.locator("tbody").inner_text()
    page.get_by_label("Search").fill("")
    page.get_by_label("Sort by").select_option("-due")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**sort=-due**")
    refs = page.locator("tbody tr td:nth-child(3) a").all_inner_texts()
    assert refs == [started[2].reference, started[1].reference]
    page.get_by_text("Save this view").click()
    page.get_by_label("Name of the view").fill("Latest first")
    page.get_by_role("button", name="Save view").click()
    page.goto("/inbox/")
    page.get_by_role("link", name="Latest first").click()
    page.wait_for_url("**sort=-due**")
    assert page.get_by_label("Sort by").input_value() == "-due"


def test_staff_pages_fit_a_phone(cases, sign_in, engine, screenshots):
    started, stuck = cases
    page = sign_in("sam")
    page.set_viewport_size(PHONE)
    widths, wide = {}, {}
    for path in ("/", "/inbox/", "/inbox/?view=team", "/inbox/?view=group", f"/tasks/{stuck.id}", "/instances/",
                 f"/instances/{started[0].id}", "/operations/"):
        page.goto(path)
        widths[path] = page.evaluate("document.documentElement.scrollWidth")
        wide[path] = page.evaluate(WIDE)
    page.goto("/inbox/?view=team")
    page.screenshot(path=str(screenshots / "inbox-team-phone.png"), full_page=True)
    assert {path: width for path, width in widths.items() if width > PHONE["width"]} == {}, wide
