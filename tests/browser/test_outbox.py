"""The failed-mails page of the operations console: readable at 390 px and without axe violations."""

import pytest

from .conftest import MODELS
from .test_accessibility import axe  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


@pytest.fixture
def failed_mail(make_user, engine):
    make_user("olivia", "Onboarding Officer")
    make_user("oscar", "Onboarding Officer", email="oscar@example.com")
    make_user("root", "Admin")
    engine.deploy(MODELS / "signoff", by="olivia")
    instance = engine.start("signoff", {"client_name": "Acme"}, by="olivia")
    engine.assign(engine.tasks(instance_id=instance.id)[0].id, "oscar", by="root")  # mails oscar
    [(mail_id, _)] = engine.due_notifications(engine.clock.now())
    engine.notification_failed(engine.claim_notification(mail_id, "example.com"), "550 5.1.1 mailbox unavailable")
    return instance, mail_id


def test_the_outbox_resends_and_fits_a_phone(failed_mail, sign_in, engine, axe):  # noqa: F811
    instance, mail_id = failed_mail
    page = sign_in("root")
    page.goto("/operations/")
    page.get_by_role("link", name="Failed mails").click()
    page.get_by_text("550 5.1.1 mailbox unavailable").wait_for()
    assert axe(page) == {}
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name=f"Resend mail #{mail_id} (task assigned)").click()
    page.get_by_text(f"Mail #{mail_id} is queued to be sent again").wait_for()
    assert page.get_by_text("resent as #").is_visible()
    assert [e.actor for e in engine.events(instance.id) if e.kind == "mail_resent"] == ["root"]
