"""RQ jobs: fire one timer, send one notification.

Jobs take ids, are idempotent, and run inside the app context the worker entry point opened (webapp/worker/entry.py).
"""

from __future__ import annotations

import logging
import random
import time
from datetime import datetime, timedelta

from engine.core.db.models import Timer
from engine.errors import ConcurrentUpdate
from flask import current_app
from sqlalchemy import select

from webapp import signing
from webapp.extensions import get_engine
from webapp.worker import mail, outbox
from webapp.worker.dispatcher import EXTENSION
from webapp.worker.queues import get_redis
from webapp.worker.scheduling import Settings, schedule_timers, take_leases

log = logging.getLogger(__name__)

CONFLICT_RETRIES = 5
# The worker holds an early timer itself when it is due within this long; later ones go back to RQ's scheduler.
HOLD_AT_MOST = timedelta(seconds=10)


class DeliveryDeferred(Exception):
    """A notification could not be sent now; raised so RQ retries the job after its backoff interval."""


def fire_timer(timer_id: int) -> str:
    """Fire a timer if due: 'fired', 'done' (fired or cancelled before); or, when woken early, 'held' (the worker
    fires it at the due time) or 'rescheduled' (back to RQ's scheduler)."""
    engine = get_engine()
    due = _due_at(engine, timer_id)
    if due is None:
        return "done"
    now = engine.clock.now()
    if due <= now:
        outcome = _fire_despite_conflicts(engine, timer_id)
        if outcome != "early":  # the engine checks the due time again, in the firing transaction
            return outcome
    settings = Settings.from_config(current_app.config)
    redis = get_redis()
    # This job holds the timer's lease: renew it past the due time whichever way the timer goes on.
    take_leases(redis, "timer", [(timer_id, due + settings.lease)], now, force=True)
    dispatcher = current_app.extensions.get(EXTENSION)
    if dispatcher is not None and due - now <= HOLD_AT_MOST and dispatcher.hold(timer_id, due):
        return "held"
    schedule_timers(redis, [(timer_id, due)], now, settings, force=True, lead=timedelta(0))
    return "rescheduled"


def _fire_despite_conflicts(engine, timer_id: int) -> str:
    """Fire through the engine; a concurrent change to the same instance means read again and retry."""
    attempt = 1
    while True:
        try:
            return engine.fire_timer(timer_id)
        except ConcurrentUpdate:
            if attempt == CONFLICT_RETRIES:
                raise  # RQ's Retry takes it from here, and the sweeper after that
            time.sleep(random.uniform(0.005, 0.05) * attempt)
            attempt += 1


def _due_at(engine, timer_id: int) -> datetime | None:
    with engine.read_session() as session:
        return session.scalar(select(Timer.due_at).where(Timer.id == timer_id, Timer.fired_at.is_(None),
                                                        Timer.cancelled_at.is_(None)))


def send_notification(notification_id: int) -> str:
    """Send one outbox row: 'sent', 'failed', 'logged' (no SMTP_URL), or 'skipped' (not ours or not due)."""
    engine = get_engine()
    config = current_app.config
    delivery = outbox.claim(engine, notification_id, mail.sender_domain(config["MAIL_FROM"]))
    if delivery is None:
        return "skipped"
    try:
        # Portal links (status, survey, reply) are signed and dated when the mail is made, never stored.
        links = signing.mail_links(delivery.template, delivery.instance_id, delivery.payload)
        rendered = mail.render(delivery.template, {**links, **delivery.payload})
    except mail.UnknownTemplate as err:
        outbox.mark_failed(engine, delivery, str(err))
        log.warning("notification %s (%s) failed: %s", delivery.id, delivery.template, err)
        return "failed"
    if not config.get("SMTP_URL"):
        outbox.mark_logged(engine, delivery)
        log.info("notification %s (%s) kept in the outbox: SMTP_URL is unset", delivery.id, delivery.template)
        return "logged"
    message = mail.build_message(rendered, sender=config["MAIL_FROM"], recipient=delivery.recipient,
                                 message_id=delivery.message_id)
    try:
        mail.send(mail.SmtpSettings.from_url(config["SMTP_URL"]), message)
    except mail.PermanentFailure as err:
        reason = _without_address(str(err), delivery.recipient)
        outbox.mark_failed(engine, delivery, reason)
        log.warning("notification %s (%s) refused by the mail server: %s", delivery.id, delivery.template, reason)
        return "failed"
    except mail.TemporaryFailure as err:
        return _defer(engine, delivery, _without_address(str(err), delivery.recipient))
    outbox.mark_sent(engine, delivery)
    log.info("notification %s (%s) sent, attempt %s", delivery.id, delivery.template, delivery.attempt)
    return "sent"


def _defer(engine, delivery: outbox.Delivery, reason: str) -> str:
    settings = Settings.from_config(current_app.config)
    if delivery.attempt >= settings.max_mail_attempts:
        outbox.mark_failed(engine, delivery, f"gave up after {delivery.attempt} attempts: {reason}")
        log.warning("notification %s (%s) failed after %s attempts: %s", delivery.id, delivery.template,
                    delivery.attempt, reason)
        return "failed"
    now = engine.clock.now()
    retry_at = now + settings.mail_retry_delay(delivery.attempt)
    outbox.defer(engine, delivery, reason, retry_at)
    # Keep the lease past the retry so the sweeper leaves the retry to RQ unless that job is lost.
    take_leases(get_redis(), "notification", [(delivery.id, retry_at + settings.lease)], now, force=True)
    raise DeliveryDeferred(f"notification {delivery.id} ({delivery.template}) attempt {delivery.attempt}: "
                           f"{reason}; next try at {retry_at.isoformat(timespec='seconds')}")


def _without_address(text: str, address: str) -> str:
    """Server replies often quote the recipient; our logs and audit trail carry no personal data."""
    return text.replace(address, "<recipient>") if address else text
