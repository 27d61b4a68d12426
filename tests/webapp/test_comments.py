"""Internal comments on a case: staff of the case only, @mentions mailed (without the text), erased with the case."""

from sqlalchemy import select

from engine import privacy
from engine.core.db.models import Notification


def mails(engine, template: str):
    with engine.read_session() as session:
        return list(session.scalars(select(Notification).where(Notification.template == template)))


def test_a_comment_mentions_a_colleague(engine, signed_in, signoff, text):
    instance = engine.start("signoff", {"client_name": "Acme"}, by="olivia")
    olivia = signed_in("olivia")
    response = olivia.post(f"/cases/{instance.id}/comments",
                           data={"body": "@oscar the VAT letter is from 2019, @oscar please ask again"},
                           follow_redirects=True)
    page = text(response)
    assert "Comment added" in page and "the VAT letter is from 2019" in page
    [mail] = mails(engine, "comment_mention")
    assert mail.recipient == "oscar@example.com" and mail.instance_id == instance.id
    assert "VAT" not in str(mail.payload) and mail.payload["reference"] == instance.reference
    [event] = [e for e in engine.events(instance.id) if e.kind == "comment_added"]
    assert event.actor == "olivia" and event.detail["mentions"] == ["oscar"] and "VAT" not in str(event.detail)


def test_bad_comments_save_nothing(engine, signed_in, signoff, text):
    instance = engine.start("signoff", {"client_name": "Acme"}, by="olivia")
    olivia = signed_in("olivia")
    for body, message in (("ask @nobody about it", "no colleague called @nobody"), ("   ", "write a comment"),
                          ("x" * 4001, "write a comment")):
        assert message in text(olivia.post(f"/cases/{instance.id}/comments", data={"body": body},
                                           follow_redirects=True))
    assert engine.comments(instance.id) == [] and mails(engine, "comment_mention") == []


def test_comments_are_for_staff_of_the_case_and_erased_with_it(engine, signed_in, signoff, text):
    instance = engine.start("signoff", {"client_name": "Acme"}, by="olivia")
    engine.add_comment(instance.id, "Acme's director is on leave until May", by="olivia")
    assert "on leave until May" in text(signed_in("cora").get(f"/instances/{instance.id}"))  # Compliance lane
    outsider = signed_in("alice")
    assert "on leave until May" not in text(outsider.get(f"/instances/{instance.id}"))
    assert outsider.post(f"/cases/{instance.id}/comments", data={"body": "hi"}).status_code == 403
    engine.cancel(instance.id, by="root", reason="test")
    privacy.erase_instance(engine, instance.id, "root", basis="test")
    assert engine.comments(instance.id) == []
