"""A case's mail log: who was mailed what, status and attempts, portal links to copy, a rate-limited resend."""

from sqlalchemy import select

from engine.core.db.models import Notification


def assigned_case(engine, open_task):
    instance = engine.start("signoff", {"client_name": "Acme"}, by="olivia")
    engine.assign(open_task(instance.id).id, "oscar", by="sam")  # mails oscar
    return instance


def outbox(engine, instance_id):
    with engine.read_session() as session:
        return list(session.scalars(select(Notification).where(Notification.instance_id == instance_id)
                                    .order_by(Notification.id)))


def test_the_case_page_lists_its_mails_with_links(engine, signed_in, signoff, open_task, text):
    instance = assigned_case(engine, open_task)
    page = signed_in("olivia").get(f"/instances/{instance.id}").get_data(as_text=True)
    assert "Mail log" in page and "Task assigned" in page and "oscar@example.com" in page
    assert "pending" in page and 'data-copy="mail-' in page and "/portal/" in page  # the status link to copy
    outsider = text(signed_in("alice").get(f"/instances/{instance.id}"))
    assert "Mail log" not in outsider and "oscar@example.com" not in outsider


def test_resend_is_audited_and_rate_limited(engine, signed_in, signoff, open_task, clock, text):
    instance = assigned_case(engine, open_task)
    [mail] = outbox(engine, instance.id)
    olivia = signed_in("olivia")
    url = f"/cases/{instance.id}/mails/{mail.id}/resend"
    assert "queued to be sent again" in text(olivia.post(url, follow_redirects=True))
    first, again = outbox(engine, instance.id)
    assert (again.template, again.recipient, again.status, again.payload) == (
        first.template, first.recipient, "pending", first.payload)
    [event] = [e for e in engine.events(instance.id) if e.kind == "mail_resent"]
    assert event.actor == "olivia" and event.detail["notification_id"] == mail.id
    assert "try again in 10 minute(s)" in text(olivia.post(url, follow_redirects=True))
    assert len(outbox(engine, instance.id)) == 2
    for _ in range(4):
        clock.advance(minutes=11)
        olivia.post(url)
    assert len(outbox(engine, instance.id)) == 6  # the first mail and five resends
    clock.advance(minutes=11)
    assert "5 times in the last hour" in text(olivia.post(url, follow_redirects=True))
    assert signed_in("alice").post(url).status_code == 403
    assert signed_in("olivia").post(f"/cases/{instance.id}/mails/999999/resend", follow_redirects=True) \
        .status_code == 200 and len(outbox(engine, instance.id)) == 6
