"""axe-core (WCAG 2.0/2.1 A and AA rules) finds no violations on every staff and portal page, at 1280 px and on a
390 px phone (where no page scrolls sideways), also with error messages showing; after a failed submit the focus is
on the error summary."""

import os
import re

import pytest

from .conftest import MODELS, PROCESSES, ROOT

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# The diagrams are drawn by bpmn-js (role="img" with a label); their SVG insides are not page content.
RUN_AXE = """() => axe.run({exclude: [['#diagram'], ['#modeler'], ['#diff-old'], ['#diff-new']]},
                           {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
  .then(result => result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                               nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"""
WIDTHS = (1280, 390)
# axe 4.x no longer reports repeated ids that no ARIA attribute points at; a label's `for` still needs unique ids.
REPEATED_IDS = """() => { const seen = {};
  document.querySelectorAll('[id]').forEach(e => { seen[e.id] = (seen[e.id] || 0) + 1; });
  return Object.keys(seen).filter(id => seen[id] > 1); }"""
FOCUSED_SUMMARY = "() => document.activeElement && document.activeElement.hasAttribute('data-error-summary')"
FOCUS_WAIT_MS = 10_000  # the script runs once the page has loaded; a page that never moves the focus fails here


@pytest.fixture
def axe():
    if not AXE.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{AXE} is missing: run `make install`")
        pytest.skip("axe-core is not installed (npm): run `make install`")

    def violations(page) -> dict[int, list]:
        """The page's violations at each width, and whether it scrolls sideways (left at 1280 px)."""
        found = {}
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 860})
            if not page.evaluate("typeof axe !== 'undefined'"):
                page.add_script_tag(path=str(AXE))
            found[width] = page.evaluate(RUN_AXE)
            repeated = page.evaluate(REPEATED_IDS)
            if repeated:
                found[width].append(f"ids used more than once: {repeated}")
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > width:
                found[width].append(f"scrolls sideways: {wide} px wide")
        page.set_viewport_size({"width": WIDTHS[0], "height": 860})
        return {width: problems for width, problems in found.items() if problems}
    return violations


@pytest.fixture
def cases(make_user, engine):
    make_user("olivia", "Onboarding Officer", "Relationship Manager", "Admin")
    make_user("cora", "Compliance Officer")
    engine.deploy(MODELS / "signoff", by="olivia")
    engine.deploy(PROCESSES / "client_onboarding.bpmn", by="olivia")
    engine.deploy(PROCESSES / "complaint_handling.bpmn", by="olivia")
    engine.deploy(PROCESSES / "suggestion.bpmn", by="olivia")
    signoff = engine.start("signoff", {"client_name": "Acme"}, by="olivia")
    engine.complete(engine.tasks(instance_id=signoff.id)[0].id, {"vat": "4123456789"}, by="olivia")
    onboarding = engine.start("client_onboarding", {"company_name": "Umbrella", "contact_name": "Al",
                                                    "client_email": "al@umbrella.example"}, by="olivia")
    return signoff, onboarding


def test_every_staff_page_has_no_wcag_violations_at_both_widths(cases, sign_in, engine, axe):
    signoff, onboarding = cases
    olivia = sign_in("olivia")
    olivia.goto("/clients/")
    client = olivia.locator("main a[href^='/clients/']").filter(has_text=re.compile("Umbrella")).first.get_attribute(
        "href")
    [assign] = engine.tasks(instance_id=onboarding.id)
    found = {}
    for path in ("/", "/inbox/", "/inbox/?view=group", "/inbox/?view=team", f"/tasks/{assign.id}",
                 "/processes/client_onboarding/start", "/instances/", f"/instances/{signoff.id}",
                 f"/instances/{onboarding.id}", "/clients/", client, "/clients/new", "/operations/",
                 "/operations/processes/client_onboarding", "/reports/", "/reports/monthly", "/privacy/",
                 "/privacy/subjects", "/privacy/access-log", "/privacy/erasures", "/admin/users", "/admin/users/cora",
                 "/studio/", "/studio/processes/signoff", "/studio/processes/signoff/diff?old=1&new=1",
                 "/no-such-page"):
        olivia.goto(path)
        olivia.wait_for_load_state("networkidle")
        found[path] = axe(olivia)
    assert {page: problems for page, problems in found.items() if problems} == {}


def test_every_portal_page_has_no_wcag_violations_at_both_widths(cases, new_page, axe):
    client = new_page()
    found = {}
    for path in ("/login", "/portal/", "/portal/complaint/new", "/portal/suggestion/new", "/portal/track",
                 "/portal/no-such-page"):
        client.goto(path)
        found[path] = axe(client)
    assert {page: problems for page, problems in found.items() if problems} == {}


def test_a_failed_submit_puts_the_focus_on_the_error_summary(cases, sign_in, new_page, engine, axe):
    signoff, _onboarding = cases
    found = {}
    client = new_page()
    client.goto("/portal/complaint/new")
    client.get_by_role("button", name="Send").click()
    client.wait_for_selector("[data-error-summary]")
    client.wait_for_function(FOCUSED_SUMMARY, timeout=FOCUS_WAIT_MS)  # portal complaint
    summary = client.locator("[data-error-summary]")
    assert "What happened?" in summary.inner_text() and "e-mail address" in summary.inner_text()
    summary.get_by_role("link").first.click()  # its links take the focus to the field
    assert client.evaluate("document.activeElement.id") == "description"
    found["portal complaint with errors"] = axe(client)

    client.goto("/portal/track")
    client.get_by_label("Reference number").fill("nope")
    client.get_by_role("button", name="Show the status").click()
    client.wait_for_selector("[data-error-summary]")
    client.wait_for_function(FOCUSED_SUMMARY, timeout=FOCUS_WAIT_MS)  # portal track
    found["portal track with errors"] = axe(client)

    anonymous = new_page()
    anonymous.goto("/login")
    anonymous.get_by_label("User name").fill("cora")
    anonymous.get_by_label("Password").fill("not her password")
    anonymous.keyboard.press("Enter")
    anonymous.wait_for_selector("[data-error-summary]")
    anonymous.wait_for_function(FOCUSED_SUMMARY, timeout=FOCUS_WAIT_MS)  # sign-in
    found["sign-in with errors"] = axe(anonymous)

    cora = sign_in("cora")
    [gate] = engine.tasks(instance_id=signoff.id)
    cora.goto(f"/tasks/{gate.id}")
    cora.get_by_role("button", name="Submit decision").click()
    cora.get_by_text("Choose a decision.").first.wait_for()
    cora.wait_for_function(FOCUSED_SUMMARY, timeout=FOCUS_WAIT_MS)  # task form
    found["sign-off with errors"] = axe(cora)

    olivia = sign_in("olivia")
    olivia.goto("/clients/new")
    olivia.get_by_role("button", name="Create client").click()
    olivia.wait_for_selector("[data-error-summary]")
    olivia.wait_for_function(FOCUSED_SUMMARY, timeout=FOCUS_WAIT_MS)  # new client
    found["new client with errors"] = axe(olivia)
    assert {page: problems for page, problems in found.items() if problems} == {}
