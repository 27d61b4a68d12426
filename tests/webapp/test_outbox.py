"""The staff outbox of failed mails (operations console): failures with error, attempts and case; resend."""

from datetime import timedelta

from sqlalchemy import select

from engine.core.db.models import Notification


def mails_of(engine, instance_id):
    with engine.read_session() as session:
        return list(session.scalars(select(Notification).where(Notification.instance_id == instance_id)
                                    .order_by(Notification.id)))


def failing_cases(engine, open_task, clock):
    """Two cases whose assignment mails went wrong the way the worker records it: one refused for good by the
    mail server, one deferred after a temporary error; and a third whose mail was sent."""
    cases = []
    for outcome in ("failed", "deferred", "sent"):
        instance = engine.start("signoff", {"client_name": f"Acme {outcome}"}, by="olivia")
        engine.assign(open_task(instance.id).id, "oscar", by="sam")  # mails oscar
        [mail] = mails_of(engine, instance.id)
        delivery = engine.claim_notification(mail.id, "example.com")
        if outcome == "failed":
            engine.notification_failed(delivery, "550 5.1.1 mailbox unavailable")
        elif outcome == "deferred":
            engine.defer_notification(delivery, "421 4.7.0 try again later", clock.now() + timedelta(minutes=5))
        else:
            engine.notification_sent(delivery)
        cases.append((instance, mail))
    return cases


def test_managers_see_failed_mails_with_error_attempts_and_case(engine, signed_in, signoff, open_task, clock, text):
    (failed, failed_mail), (deferred, _), (sent, _) = failing_cases(engine, open_task, clock)
    page = signed_in("root").get("/operations/outbox")
    assert page.status_code == 200
    body = text(page)
    assert "2 mails failed or waiting to retry" in body
    assert "550 5.1.1 mailbox unavailable" in body and "421 4.7.0 try again later" in body
    assert failed.reference in body and deferred.reference in body and sent.reference not in body
    assert f'href="/instances/{failed.id}#mail-title"' in page.text
    assert "oscar@example.com" in body  # an Admin may see every case's personal data
    assert body.count("Resend") == 1  # only the mail that failed for good; the other is still being retried
    supervisor = text(signed_in("sam").get("/operations/outbox"))  # manages operations, not the sign-off lanes
    assert "550 5.1.1 mailbox unavailable" in supervisor and "oscar@example.com" not in supervisor
    assert "[restricted]" in supervisor
    assert signed_in("olivia").get("/operations/outbox").status_code == 403


def test_resend_from_the_outbox_is_audited_and_shown(engine, signed_in, signoff, open_task, clock, text):
    (failed, failed_mail), _, _ = failing_cases(engine, open_task, clock)
    sam = signed_in("sam")
    response = sam.post(f"/operations/outbox/{failed_mail.id}/resend", data={"instance": failed.id},
                        follow_redirects=True)
    assert f"Mail #{failed_mail.id} is queued to be sent again" in text(response)
    first, again = mails_of(engine, failed.id)
    assert (again.status, again.recipient, again.template) == ("pending", first.recipient, first.template)
    assert f"resent as #{again.id}" in text(response)
    [event] = [e for e in engine.events(failed.id) if e.kind == "mail_resent"]
    assert event.actor == "sam" and event.detail["notification_id"] == failed_mail.id
    refused = text(sam.post(f"/operations/outbox/{failed_mail.id}/resend", data={"instance": failed.id},
                            follow_redirects=True))
    assert "was not sent again: this mail was resent 0 minute(s) ago" in refused
    assert "has no case any more" in text(sam.post(f"/operations/outbox/{failed_mail.id}/resend",
                                                   follow_redirects=True))
    assert len(mails_of(engine, failed.id)) == 2
    assert signed_in("olivia").post(f"/operations/outbox/{failed_mail.id}/resend",
                                    data={"instance": failed.id}).status_code == 403
