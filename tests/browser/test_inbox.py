"""The inbox in a browser: overdue and due-soon tasks stand out, filters apply on their button (WCAG 3.2.2)."""

from datetime import UTC, datetime

import pytest

from engine.clock import ManualClock

from .conftest import MODELS

pytestmark = pytest.mark.browser


@pytest.fixture
def clock():
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def app_config(app_config, clock):
    return {**app_config, "CLOCK": clock, "DUE_SOON_HOURS": 3}


@pytest.fixture
def cases(make_user, engine, clock):
    """Collect tasks (due 4 h after their start): two overdue, one due soon, two later."""
    make_user("olivia", "Onboarding Officer")
    engine.deploy(MODELS / "signoff", by="olivia")
    for name in ("Acme Holdings", "Blue Ridge Mining"):
        engine.start("signoff", {"client_name": name}, by="olivia")
    clock.advance(hours=4, minutes=30)
    engine.start("signoff", {"client_name": "Cobalt Logistics"}, by="olivia")
    clock.advance(hours=2)
    for name in ("Delta Foods", "Evergreen Farms"):
        engine.start("signoff", {"client_name": name}, by="olivia")


def test_overdue_and_due_soon_stand_out_and_filters_wait_for_apply(cases, sign_in, screenshots):
    page = sign_in("olivia")
    page.goto("/inbox/?view=group")
    assert page.locator("tr.is-overdue").count() == 2 and page.locator("tr.is-soon").count() == 1
    rows = page.locator("tbody tr")
    assert rows.nth(0).locator(".due.overdue").is_visible() and rows.nth(2).locator(".due.soon").is_visible()
    clients = [rows.nth(n).locator("td[data-label=Case]").inner_text().split("\n")[-1] for n in range(5)]
    assert clients[2] == "Cobalt Logistics" and set(clients[3:]) == {"Delta Foods", "Evergreen Farms"}
    page.screenshot(path=str(screenshots / "inbox.png"), full_page=True)
    due = page.locator("select[name=due]")
    due.focus()
    page.keyboard.press("ArrowDown")  # moving through the choices changes nothing on the page (WCAG 3.2.2)
    page.wait_for_timeout(300)
    assert "due=" not in page.url and page.evaluate("document.activeElement.name") == "due"
    due.select_option("overdue")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**due=overdue**")
    assert page.locator("tbody tr").count() == 2
