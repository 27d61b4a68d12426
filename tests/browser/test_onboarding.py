"""The shipped client onboarding in a browser: start form, a validation error fixed, documents, the compliance
gate with its decision form, and the diagram's highlight moving on."""

import pytest

from .conftest import PROCESSES

pytestmark = pytest.mark.browser


@pytest.fixture
def people(make_user, engine):
    make_user("rita", "Relationship Manager", "Onboarding Officer")
    make_user("cora", "Compliance Officer")
    engine.deploy(PROCESSES / "client_onboarding.bpmn", by="po")


def marked(page, element_id: str, marker: str) -> bool:
    return page.locator(f'.djs-element.{marker}[data-element-id="{element_id}"]').count() == 1


def show_diagram(page, instance_id: int) -> None:
    page.goto(f"/instances/{instance_id}")
    page.wait_for_selector("#diagram[data-rendered] .djs-container svg")


def test_onboarding_through_the_compliance_gate(people, sign_in, engine, screenshots):
    rita = sign_in("rita")
    rita.goto("/")
    rita.locator("li", has_text="Client onboarding").get_by_role("link", name="Start").click()
    rita.get_by_label("Company name").fill("Umbrella Mining")
    rita.get_by_label("Contact person").fill("Alice Abbot")
    rita.get_by_label("Contact e-mail").fill("alice.umbrella")
    rita.get_by_role("button", name="Start").click()
    rita.locator("#client_email-error").wait_for()
    assert rita.get_by_label("Company name").input_value() == "Umbrella Mining"
    rita.get_by_label("Contact e-mail").fill("alice@umbrella.example")
    rita.get_by_role("button", name="Start").click()
    rita.wait_for_url("**/tasks/*")

    rita.locator("[name=relationship_manager]").fill("Rita Ramos")
    rita.locator("[name=relationship_manager_email]").fill("rita@example.com")
    rita.get_by_role("button", name="Complete task").click()
    rita.wait_for_url("**/inbox/")
    rita.goto("/inbox/?view=group")
    rita.locator("tr", has_text="Collect documentation").get_by_role("button", name="Claim").click()
    rita.get_by_text("Claimed by you").wait_for()
    for name, value in (("company_registration_number", "2019/123456/07"), ("tax_reference_number", "9012345678"),
                        ("primary_contact-name", "Alice Abbot"), ("primary_contact-email", "alice@umbrella.example"),
                        ("bank_details-account_holder", "Umbrella Mining (Pty) Ltd"),
                        ("bank_details-account_number", "62000000001"), ("bank_details-branch_code", "250655")):
        rita.locator(f"[name='{name}']").fill(value)
    for name, value in (("bee_status", "exempt"), ("bank_details-bank_name", "fnb")):
        rita.locator(f"[name='{name}']").select_option(value)
    rita.get_by_label("Cheque").check()
    for document in ("id_document", "registration_document", "tax_document", "bank_confirmation", "signed_contract"):
        rita.locator(f"[name={document}__file]").set_input_files(
            {"name": f"{document}.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n% browser upload\n"})
        if document != "signed_contract":
            rita.locator(f"[name={document}__expires]").fill("2099-12-31")
    rita.locator("[name=contract_signed_on]").fill("2026-03-20")
    for name in ("pep_involved", "high_risk_jurisdiction"):
        rita.locator(f"[name={name}]").nth(1).check()  # No
    rita.locator("[name=industry_risk][value=low]").check()
    rita.locator("[name=terms_explained]").check()
    rita.get_by_role("button", name="Complete task").click()
    rita.wait_for_url("**/inbox/")

    [instance] = engine.list_instances()
    show_diagram(rita, instance.id)
    assert marked(rita, "collect_documents", "completed") and marked(rita, "compliance_check", "active")

    cora = sign_in("cora")
    cora.goto("/inbox/?view=group")
    cora.locator("tr", has_text="Compliance sign-off").get_by_role("button", name="Claim").click()
    cora.get_by_text("Collected information").wait_for()
    assert cora.locator(".review").get_by_text("2019/123456/07").is_visible()
    assert cora.get_by_text("Documents and attachments of this case").is_visible()
    for check in ("registration_verified", "tax_status_verified", "identity_verified", "bee_certificate_verified",
                  "bank_details_verified", "sanctions_screened", "contract_verified"):
        cora.locator(f"[name={check}]").check()
    cora.locator("[name=decision][value=reject]").check()
    cora.get_by_role("button", name="Submit decision").click()
    cora.locator("#reason-error").wait_for()  # a rejection needs a reason
    cora.screenshot(path=str(screenshots / "compliance-sign-off.png"), full_page=True)
    cora.locator("[name=decision][value=approve]").check()
    cora.get_by_role("button", name="Submit decision").click()
    cora.wait_for_url("**/inbox/")

    show_diagram(cora, instance.id)
    assert marked(cora, "compliance_check", "completed") and not marked(cora, "compliance_check", "active")
    assert marked(cora, "activate_service", "active")
    cora.screenshot(path=str(screenshots / "instance.png"), full_page=True)
