"""Sending outbox rows to a real SMTP server (aiosmtpd): once, with a stable Message-ID; refusals kept visible."""

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from engine.core.db.models import Notification
from tests.worker.fixtures import MAIL_RETRY_INTERVALS
from tests.worker.harness import REJECTED_PREFIX
from webapp.worker.entry import job_context
from webapp.worker.jobs import DeliveryDeferred, send_notification
from webapp.worker.queues import connect


@pytest.fixture
def app_config(app_config, smtp_server):
    return {**app_config, "SMTP_URL": smtp_server.url, "SCHEDULE_JOBS": False}


def notice(engine, email="ana@example.com", template="complaint_acknowledgement"):
    instance = engine.start("notice", {"template": template, "email": email, "name": "Ana"})
    return instance, row_of(engine, instance.id)


def row_of(engine, instance_id) -> Notification:
    with engine.read_session() as session:
        return session.scalars(select(Notification).where(Notification.instance_id == instance_id)).one()


def send(app, notification_id):
    with job_context(app, connect(app.config["REDIS_URL"])):
        return send_notification(notification_id)


def kinds(engine, instance_id):
    return [e.kind for e in engine.events(instance_id)]


def test_sent_once_with_a_stable_message_id(app, models, smtp_server):
    engine = models
    smtp_server.start()
    instance, row = notice(engine)
    assert row.status == "pending" and row.message_id is None
    assert send(app, row.id) == "sent"
    assert send(app, row.id) == "skipped"  # a second job for the same row sends nothing
    row = row_of(engine, instance.id)
    assert (row.status, row.attempts) == ("sent", 1) and row.sent_at is not None
    [message] = smtp_server.messages
    assert message["Message-ID"] == row.message_id
    assert message["To"] == "ana@example.com"
    assert instance.reference in message["Subject"]
    assert kinds(engine, instance.id).count("notification_sent") == 1


def test_resend_after_a_crash_keeps_the_message_id(app, models, smtp_server):
    engine = models
    instance, row = notice(engine)
    crashed = engine.claim_notification(row.id, "example.com")  # an attempt that died before it could finish
    assert crashed.message_id and send(app, row.id) == "skipped"  # its hold is still on
    with engine.write_session.begin() as session:
        session.execute(update(Notification).where(Notification.id == row.id)
                        .values(next_try_at=engine.clock.now() - timedelta(seconds=1)))
    smtp_server.start()
    assert send(app, row.id) == "sent"
    [message] = smtp_server.messages
    assert message["Message-ID"] == crashed.message_id
    assert row_of(engine, instance.id).attempts == 2


def test_refused_recipient_is_marked_failed_with_the_servers_reason(app, models, smtp_server, caplog):
    engine = models
    smtp_server.start()
    address = f"{REJECTED_PREFIX}example.com"
    instance, row = notice(engine, email=address)
    with caplog.at_level(logging.INFO, logger="webapp"):
        assert send(app, row.id) == "failed"
    row = row_of(engine, instance.id)
    assert row.status == "failed"
    assert row.last_error.startswith("550 5.1.1") and "no such user here" in row.last_error
    assert smtp_server.messages == []
    assert kinds(engine, instance.id).count("notification_failed") == 1
    assert address not in caplog.text and f"notification {row.id}" in caplog.text


def test_server_down_defers_with_backoff_then_gives_up(app, models):
    engine = models
    instance, row = notice(engine)
    for attempt in range(1, 6):
        before = engine.clock.now()  # compared with the time the try began, not ended: a loaded machine is slow
        with pytest.raises(DeliveryDeferred, match="ConnectionRefusedError"):
            send(app, row.id)
        row = row_of(engine, instance.id)
        assert (row.status, row.attempts) == ("pending", attempt)
        assert row.next_try_at >= before + timedelta(seconds=MAIL_RETRY_INTERVALS[attempt - 1])
        with engine.write_session.begin() as session:  # skip the wait
            session.execute(update(Notification).where(Notification.id == row.id)
                            .values(next_try_at=engine.clock.now()))
    assert send(app, row.id) == "failed"
    row = row_of(engine, instance.id)
    assert row.status == "failed" and row.last_error.startswith("gave up after 6 attempts")


def test_unknown_template_fails_visibly(app, models, smtp_server):
    engine = models
    smtp_server.start()
    instance, row = notice(engine, template="no_such_template")
    assert send(app, row.id) == "failed"
    assert "no mail template named 'no_such_template'" in row_of(engine, instance.id).last_error


def test_without_smtp_url_the_mail_stays_in_the_outbox_and_is_logged(app, models, caplog):
    engine = models
    app.config["SMTP_URL"] = None
    instance, row = notice(engine)
    with caplog.at_level(logging.INFO, logger="webapp"):
        assert send(app, row.id) == "logged"
    assert row_of(engine, instance.id).status == "logged"
    assert f"notification {row.id} (complaint_acknowledgement) kept in the outbox" in caplog.text
    assert "ana@example.com" not in caplog.text
    assert "notification_logged" in kinds(engine, instance.id)
