"""Delivering outbox rows: pending -> sending -> sent | failed | logged; each step one transaction with its audit.

An attempt first *claims* its row (status `sending`, held for a while, Message-ID fixed once), so two jobs for the
same row never send at the same time, and a crash mid-send leaves a row the sweeper retries after the hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from engine.core import audit
from engine.core.db.models import Notification
from engine.core.users import SYSTEM_ACTOR
from sqlalchemy import or_, select

PENDING, SENDING, SENT, FAILED, LOGGED = "pending", "sending", "sent", "failed", "logged"
# Longer than one SMTP conversation may take, so a live attempt is never overtaken by the sweeper.
SENDING_HOLD = timedelta(minutes=3)
# RQ's scheduler may start a retry up to a second early; a mail is not held back for that.
EARLY_TOLERANCE = timedelta(seconds=2)


@dataclass(frozen=True)
class Delivery:
    """One claimed attempt at sending one notification."""

    id: int
    instance_id: int | None
    template: str
    recipient: str
    payload: dict[str, Any]
    message_id: str
    attempt: int


def claim(engine, notification_id: int, domain: str) -> Delivery | None:
    """Take a due row for one attempt; None when it is sent, failed, not due yet, or another attempt holds it."""
    now = engine.clock.now()
    with engine.write_session.begin() as session:
        row = session.get(Notification, notification_id, with_for_update=True, populate_existing=True)
        if row is None or row.status not in (PENDING, SENDING):
            return None
        if row.next_try_at is not None:
            allowed = now + EARLY_TOLERANCE if row.status == PENDING else now
            if row.next_try_at > allowed:
                return None
        if not row.message_id:
            # Fixed before the first attempt: a resend after a crash carries the same Message-ID.
            row.message_id = f"<notification.{row.id}.{uuid4().hex[:16]}@{domain}>"
        row.status = SENDING
        row.attempts += 1
        row.next_try_at = now + SENDING_HOLD
        return Delivery(row.id, row.instance_id, row.template, row.recipient, dict(row.payload or {}),
                        row.message_id, row.attempts)


def _finish(engine, delivery: Delivery, status: str, event: str, *, error: str | None = None,
            next_try_at: datetime | None = None, **detail) -> None:
    now = engine.clock.now()
    with engine.write_session.begin() as session:
        row = session.get(Notification, delivery.id, with_for_update=True, populate_existing=True)
        if row is None or row.status != SENDING or row.attempts != delivery.attempt:
            return  # another attempt took over meanwhile; its outcome stands
        row.status = status
        row.last_error = error
        row.next_try_at = next_try_at
        if status == SENT:
            row.sent_at = now
        # No address in the audit trail's detail: the row holds it, the trail says what happened.
        audit.record(session, event, at=now, instance_id=row.instance_id, actor=SYSTEM_ACTOR,
                     notification_id=row.id, template=row.template, attempt=delivery.attempt, **detail)


def mark_sent(engine, delivery: Delivery) -> None:
    _finish(engine, delivery, SENT, "notification_sent", message_id=delivery.message_id)


def mark_logged(engine, delivery: Delivery) -> None:
    """No SMTP server configured: the row stays in the outbox as the record of the mail."""
    _finish(engine, delivery, LOGGED, "notification_logged")


def mark_failed(engine, delivery: Delivery, reason: str) -> None:
    _finish(engine, delivery, FAILED, "notification_failed", error=reason, reason=reason)


def defer(engine, delivery: Delivery, reason: str, retry_at: datetime) -> None:
    """A temporary failure: back to pending, due again at `retry_at`."""
    _finish(engine, delivery, PENDING, "notification_deferred", error=reason, next_try_at=retry_at, reason=reason,
            retry_at=retry_at.isoformat())


def due_notifications(engine, until: datetime, limit: int = 1000) -> list[tuple[int, datetime | None]]:
    """(id, next try) of rows still to send whose next try is before `until` (including crashed attempts)."""
    with engine.read_session() as session:
        rows = session.execute(
            select(Notification.id, Notification.next_try_at)
            .where(Notification.status.in_((PENDING, SENDING)),
                   or_(Notification.next_try_at.is_(None), Notification.next_try_at <= until))
            .order_by(Notification.next_try_at, Notification.id).limit(limit))
        return [(row.id, row.next_try_at) for row in rows]


def status_of(engine, notification_id: int) -> str | None:
    with engine.read_session() as session:
        return session.scalar(select(Notification.status).where(Notification.id == notification_id))
