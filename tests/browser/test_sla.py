"""An agent escalates a complaint from the case's SLA panel: the supervisor's level takes it, with the reason."""

import pytest

from .conftest import PROCESSES

pytestmark = pytest.mark.browser

COMPLAINT = {"client_name": "Thandi Mokoena", "client_email": "thandi@example.com", "channel": "hotline",
             "category": "delivery", "description": "The concentrate delivery was 12 days late."}


@pytest.fixture
def complaint(make_user, engine):
    make_user("agent", "Customer Care Agent", email="agent@example.com")
    engine.deploy_each(PROCESSES, by="process-owner")
    instance = engine.start("complaint_handling", COMPLAINT, by="agent")
    [task] = engine.tasks(instance_id=instance.id)
    engine.complete(task.id, {"severity": "low", "handler_email": "agent@example.com"}, by="agent")
    return instance


def test_an_agent_escalates_a_case_from_its_sla_panel(complaint, sign_in, engine, screenshots):
    page = sign_in("agent")
    page.goto(f"/instances/{complaint.id}")
    panel = page.locator("section[aria-labelledby=sla-title]")
    resolve = panel.locator("tr[data-target=resolve]")
    assert "running" in resolve.inner_text() and "agent" in resolve.inner_text()
    panel.get_by_role("button", name="Escalate now").click()  # the reason is required: the browser stops it
    assert page.url.endswith(f"/instances/{complaint.id}")
    panel.get_by_label("Reason").fill("The client threatens legal action.")
    panel.get_by_role("button", name="Escalate now").click()
    page.wait_for_url(f"**/instances/{complaint.id}#sla-title")
    assert page.get_by_text("The case was referred to the next level.").is_visible()
    resolve = page.locator("section[aria-labelledby=sla-title] tr[data-target=resolve]")
    assert "escalated" in resolve.inner_text() and "supervisor" in resolve.inner_text()
    page.locator("section[aria-labelledby=sla-title] summary").click()
    assert page.get_by_text("referral: The client threatens legal action.").first.is_visible()
    page.screenshot(path=str(screenshots / "instance-sla-panel.png"), full_page=True)
    assert [t.element_id for t in engine.tasks(instance_id=complaint.id)] == ["supervisor_resolve"]
