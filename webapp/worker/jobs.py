"""RQ jobs: fire one timer, send one notification, run one asynchronous continuation.

Jobs take ids, are idempotent, and get everything else from the worker's context (webapp/worker/context.py), which
the entry point installs: no job touches Flask. The path of a timer: the kernel decides (engine/core/actions.py
`fire_timer`, due or not inside the firing transaction); this module delivers (hold it until due, or fire it).
"""

from __future__ import annotations

import logging
import random
import time
from datetime import timedelta

from engine.core.outbox import SENDING_HOLD, Delivery
from engine.errors import ConcurrentUpdate

from webapp.worker import mail
from webapp.worker.context import WorkerContext, current
from webapp.worker.scheduling import lease_key, schedule_timers, take_leases

log = logging.getLogger(__name__)

CONFLICT_RETRIES = 5
# The worker holds an early timer itself when it is due within this long; later ones go back to RQ's scheduler.
HOLD_AT_MOST = timedelta(seconds=10)


class DeliveryDeferred(Exception):
    """A notification could not be sent now; raised so RQ retries the job after its backoff interval."""


def fire_timer(timer_id: int) -> str:
    """Fire a timer if due: 'fired', 'done' (fired or cancelled before); or, when woken early, 'held' (this worker
    fires it at the due time) or 'rescheduled' (back to RQ's scheduler)."""
    context = current()
    engine = context.engine
    due = engine.open_timer_due(timer_id)
    if due is None:
        return "done"
    now = engine.clock.now()
    # This worker holds the timer now: its name in the lease lets a live worker take over if this one dies.
    take_leases(context.redis, "timer", [(timer_id, max(due, now) + context.settings.lease)], now, force=True,
                holder=context.name)
    if due <= now:
        outcome = fire_now(context, timer_id)
        if outcome != "early":
            return outcome
    return hold_or_reschedule(context, timer_id, due)


def fire_now(context: WorkerContext, timer_id: int) -> str:
    """Fire through the engine (which checks the due time in its transaction); a concurrent change to the same
    instance means try again."""
    return _retrying_conflicts(lambda: context.engine.fire_timer(timer_id))


def _retrying_conflicts(call):
    """`call()`, tried again a few times (after a short random wait) while another change to the same instance
    wins the race; then RQ's Retry takes it from here, and the sweeper after that."""
    attempt = 1
    while True:
        try:
            return call()
        except ConcurrentUpdate:
            if attempt == CONFLICT_RETRIES:
                raise
            time.sleep(random.uniform(0.005, 0.05) * attempt)
            attempt += 1


def hold_or_reschedule(context: WorkerContext, timer_id: int, due) -> str:
    """An early timer: held by this worker's dispatcher when due soon, else back to RQ's scheduler."""
    now = context.engine.clock.now()
    dispatcher = context.dispatcher
    if dispatcher is not None and due - now <= HOLD_AT_MOST and dispatcher.hold(timer_id, due):
        return "held"
    schedule_timers(context.redis, [(timer_id, due)], now, context.settings, force=True, lead=timedelta(0))
    return "rescheduled"


def continue_async(task_id: str) -> str:
    """Run one asynchronous continuation of a Camunda model (engine/camunda/continuations.py): 'continued',
    'retrying', 'incident' or 'done'. A concurrent change to the instance means try again."""
    context = current()
    try:
        outcome = _retrying_conflicts(lambda: context.engine.camunda.continue_async(task_id))
    finally:
        context.redis.delete(lease_key("async", task_id))
    log.info("asynchronous continuation %s: %s", task_id, outcome)
    return outcome


def send_notification(notification_id: int, takeover: bool = False) -> str:
    """Send one outbox row: 'sent', 'failed', 'logged' (no SMTP_URL), or 'skipped' (not ours or not due).

    `takeover` (set by the sweeper) sends a row whose previous attempt's worker died mid-send."""
    context = current()
    engine = context.engine
    delivery = engine.claim_notification(notification_id, mail.sender_domain(context.mail_from), takeover=takeover)
    if delivery is None:
        return "skipped"
    now = engine.clock.now()
    # Held as long as the row's hold: a live but slow attempt is never taken over, a dead worker's is at once.
    take_leases(context.redis, "notification", [(delivery.id, now + SENDING_HOLD + context.settings.lease)], now,
                force=True, holder=context.name)
    try:
        rendered = _render(context, delivery)
    except mail.UnknownTemplate as err:
        engine.notification_failed(delivery, str(err))
        log.warning("notification %s (%s) failed: %s", delivery.id, delivery.template, err)
        return "failed"
    if not context.smtp_url:
        engine.notification_logged(delivery)
        log.info("notification %s (%s) kept in the outbox: SMTP_URL is unset", delivery.id, delivery.template)
        return "logged"
    message = mail.build_message(rendered, sender=context.mail_from, recipient=delivery.recipient,
                                 message_id=delivery.message_id)
    try:
        mail.send(mail.SmtpSettings.from_url(context.smtp_url), message)
    except mail.PermanentFailure as err:
        reason = _without_address(str(err), delivery.recipient)
        engine.notification_failed(delivery, reason)
        log.warning("notification %s (%s) refused by the mail server: %s", delivery.id, delivery.template, reason)
        return "failed"
    except mail.TemporaryFailure as err:
        return _defer(context, delivery, _without_address(str(err), delivery.recipient))
    engine.notification_sent(delivery)
    log.info("notification %s (%s) sent, attempt %s%s", delivery.id, delivery.template, delivery.attempt,
             f", with {len(delivery.batch)} more in one digest" if delivery.batch else "")
    return "sent"


def _render(context: WorkerContext, delivery: Delivery) -> mail.RenderedMail:
    """The mail of one row, or one digest listing each row of a digest (engine/sla/mailing.py)."""
    items = []
    for row in delivery.rows:
        # Portal links (status, survey, reply) are signed and dated when the mail is made, never stored.
        fields = {**context.links(row.template, row.instance_id, row.payload), **row.payload}
        items.append((mail.render(row.template, fields), fields))
    return mail.render_digest(items) if delivery.batch else items[0][0]


def _defer(context: WorkerContext, delivery: Delivery, reason: str) -> str:
    engine, settings = context.engine, context.settings
    if delivery.attempt >= settings.max_mail_attempts:
        engine.notification_failed(delivery, f"gave up after {delivery.attempt} attempts: {reason}")
        log.warning("notification %s (%s) failed after %s attempts: %s", delivery.id, delivery.template,
                    delivery.attempt, reason)
        return "failed"
    now = engine.clock.now()
    retry_at = now + settings.mail_retry_delay(delivery.attempt)
    engine.defer_notification(delivery, reason, retry_at)
    # Keep the lease past the retry so the sweeper leaves the retry to RQ unless that job is lost.
    take_leases(context.redis, "notification", [(delivery.id, retry_at + settings.lease)], now, force=True)
    raise DeliveryDeferred(f"notification {delivery.id} ({delivery.template}) attempt {delivery.attempt}: "
                           f"{reason}; next try at {retry_at.isoformat(timespec='seconds')}")


def _without_address(text: str, address: str) -> str:
    """Server replies often quote the recipient; our logs and audit trail carry no personal data."""
    return text.replace(address, "<recipient>") if address else text
