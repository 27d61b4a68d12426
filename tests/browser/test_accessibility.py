"""axe-core (WCAG 2 A and AA rules) finds no violations on the main pages."""

import os

import pytest

from .conftest import MODELS, PROCESSES, ROOT

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
RUN_AXE = """() => axe.run({exclude: [['#diagram']]}, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})
  .then(result => result.violations.map(v => ({id: v.id, help: v.help,
                                               nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"""


@pytest.fixture
def axe():
    if not AXE.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{AXE} is missing: run `make install`")
        pytest.skip("axe-core is not installed (npm): run `make install`")

    def violations(page) -> list:
        page.add_script_tag(path=str(AXE))
        return page.evaluate(RUN_AXE)
    return violations


@pytest.fixture
def cases(make_user, engine):
    make_user("olivia", "Onboarding Officer", "Relationship Manager", "Admin")
    make_user("cora", "Compliance Officer")
    engine.deploy(MODELS / "signoff", by="olivia")
    engine.deploy(PROCESSES / "client_onboarding.bpmn", by="olivia")
    signoff = engine.start("signoff", {"client_name": "Acme"}, by="olivia")
    engine.complete(engine.tasks(instance_id=signoff.id)[0].id, {"vat": "4123456789"}, by="olivia")
    onboarding = engine.start("client_onboarding", {"company_name": "Umbrella", "contact_name": "Al",
                                                    "client_email": "al@umbrella.example"}, by="olivia")
    return signoff, onboarding


def test_main_pages_have_no_wcag_violations(cases, sign_in, new_page, engine, axe):
    signoff, onboarding = cases
    anonymous = new_page()
    anonymous.goto("/login")
    found = {"/login": axe(anonymous)}
    olivia = sign_in("olivia")
    [assign] = engine.tasks(instance_id=onboarding.id)
    for path in ("/", "/inbox/?view=group", f"/tasks/{assign.id}", "/processes/client_onboarding/start",
                 "/instances/", f"/instances/{signoff.id}", "/admin/users", "/admin/users/cora"):
        olivia.goto(path)
        found[path] = axe(olivia)
    cora = sign_in("cora")
    [gate] = engine.tasks(instance_id=signoff.id)
    cora.goto(f"/tasks/{gate.id}")
    cora.get_by_role("button", name="Submit decision").click()  # with its error messages showing
    cora.get_by_text("Choose a decision.").wait_for()
    found["sign-off with errors"] = axe(cora)
    assert {page: problems for page, problems in found.items() if problems} == {}
