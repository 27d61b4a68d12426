"""The client pages in a browser: find a client, see every case, correct a field error, save a correction."""

import pytest

from tests.processes.flow import PROCESSES

pytestmark = pytest.mark.browser

REQUEST = {"company_name": "Umbrella Mining", "contact_name": "Alice Abbot", "client_email": "alice@umbrella.example"}


@pytest.fixture
def umbrella(engine, make_user):
    make_user("rita", "Relationship Manager")
    engine.deploy_each(PROCESSES, by="po")
    onboarding = engine.start("client_onboarding", REQUEST, by="rita")
    complaint = engine.start("complaint_handling", {"client_email": "alice@umbrella.example", "channel": "email",
                                                    "description": "The portal rejects our order file."}, by="rita")
    return onboarding, complaint


def test_find_a_client_see_their_cases_and_correct_the_record(umbrella, sign_in, engine, screenshots):
    onboarding, complaint = umbrella
    rita = sign_in("rita")
    rita.get_by_role("link", name="Clients").click()
    rita.get_by_label("Name, e-mail or registration number").fill("umbrella")
    rita.get_by_role("button", name="Search").click()
    rita.get_by_role("link", name="Umbrella Mining").click()
    cases = rita.get_by_role("table")
    assert cases.get_by_role("link", name=onboarding.reference).is_visible()
    assert cases.get_by_role("link", name=complaint.reference).is_visible()
    rita.get_by_label("Phone number").fill("ring me")
    rita.get_by_role("button", name="Save corrections").click()
    assert "must be a phone number" in rita.locator("#phone-error").inner_text()
    rita.get_by_label("Phone number").fill("+27 11 555 0100")
    rita.get_by_label("E-mail address").fill("orders@umbrella.example")
    rita.get_by_role("button", name="Save corrections").click()
    rita.get_by_text("every case of this client uses the new details").wait_for()
    rita.screenshot(path=str(screenshots / "client-record.png"), full_page=True)
    client = engine.clients.of_case(complaint.id)
    assert (client.phone, client.email) == ("+27 11 555 0100", "orders@umbrella.example")
