"""The notification outbox, one lifecycle: `notify(...)` in a script writes a row in the same transaction as the
state; a worker then claims it and marks the attempt: pending -> sending -> sent | failed | logged (or back to
pending for a retry), each step one transaction with its audit event.

Rows first, mail second (webapp/worker/jobs.py sends): nothing is sent for a change that was rolled back, and
nothing is lost when a worker dies. An attempt first *claims* its row (status `sending`, held for a while,
Message-ID fixed once), so two jobs for the same row never send at the same time.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from sqlalchemy import and_, or_, select

from engine.core import audit
from engine.core.db.models import Notification
from engine.core.db.prepared import Prepared
from engine.core.users import SYSTEM_ACTOR

if TYPE_CHECKING:
    from engine.core.services import Services

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_pending: ContextVar[list[dict[str, Any]] | None] = ContextVar("clientflow_outbox", default=None)


@dataclass
class Outbox:
    """Collects the notifications scripts ask for while one unit of work runs."""

    items: list[dict[str, Any]] = field(default_factory=list)

    def __enter__(self) -> Outbox:
        self._token = _pending.set(self.items)
        return self

    def __exit__(self, *exc) -> None:
        _pending.reset(self._token)


def notify(template: str, to: str, **fields: Any) -> bool:
    """Script function: queue a notification from template `template` to address `to`.

    Returns False (and queues nothing) when `to` is empty, so models can notify optional contacts."""
    if not isinstance(template, str) or not re.fullmatch(r"[a-z0-9_]{1,80}", template):
        raise ValueError(f"notify: invalid template name {template!r}")
    if not to:
        return False
    if not isinstance(to, str) or not _EMAIL.match(to):
        raise ValueError(f"notify: {to!r} is not an e-mail address")
    items = _pending.get()
    if items is None:
        raise RuntimeError("notify() called outside a unit of work")
    items.append({"template": template, "recipient": to, "payload": fields})
    return True


_TABLE = Notification.__table__
_INSERT = Prepared(_TABLE.insert().returning(_TABLE.c.id), keys=[
    "instance_id", "template", "recipient", "payload", "status", "attempts", "next_try_at", "created_at", "digest"])


def write_rows(conn, instance_id: int, items: list[dict[str, Any]], now: datetime) -> list[int]:
    """Insert the outbox rows of one unit of work; returns their ids."""
    return [_INSERT.scalar(conn, {"instance_id": instance_id, "template": i["template"], "recipient": i["recipient"],
                                  "payload": i["payload"], "status": "pending", "attempts": 0, "next_try_at": now,
                                  "created_at": now, "digest": False})
            for i in items]


# -- delivery ---------------------------------------------------------------------------------------------

PENDING, SENDING, SENT, FAILED, LOGGED = "pending", "sending", "sent", "failed", "logged"
# Longer than one SMTP conversation may take, so a live attempt is never overtaken by the sweeper; an attempt whose
# worker died is taken over before the hold ends (`claim(..., takeover=True)`, webapp/worker/sweeper.py).
SENDING_HOLD = timedelta(minutes=3)
# RQ's scheduler may start a retry up to a second early; a mail is not held back for that.
EARLY_TOLERANCE = timedelta(seconds=2)
# At most this many rows in one digest mail; the rest go in the next one.
DIGEST_LIMIT = 50


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
    # A digest: the recipient's other due digest rows, claimed with this one and sent in the same mail.
    batch: tuple[Delivery, ...] = ()

    @property
    def rows(self) -> tuple[Delivery, ...]:
        return (self, *self.batch)


def claim(services: Services, notification_id: int, domain: str, *, takeover: bool = False) -> Delivery | None:
    """Take a due row for one attempt; None when it is sent, failed, not due yet, or another attempt holds it.

    `takeover` claims a row another attempt holds (`sending`) before its hold ends: for a caller that knows that
    attempt's worker is dead."""
    now = services.clock.now()
    with services.write_session.begin() as session:
        row = session.get(Notification, notification_id, with_for_update=True, populate_existing=True)
        if row is None or row.status not in (PENDING, SENDING):
            return None
        if row.next_try_at is not None and not (takeover and row.status == SENDING):
            allowed = now + EARLY_TOLERANCE if row.status == PENDING else now
            if row.next_try_at > allowed:
                return None
        if not row.message_id:
            # Fixed before the first attempt: a resend after a crash carries the same Message-ID.
            row.message_id = f"<notification.{row.id}.{uuid4().hex[:16]}@{domain}>"
        lead = _take(row, row.message_id, now)
        if not row.digest:
            return lead
        # The same recipient's other due digest rows go in this mail, under its Message-ID.
        # A takeover gathers the dead attempt's digest again (same Message-ID), so it is not resent piecemeal.
        due = and_(Notification.status == PENDING, or_(Notification.next_try_at.is_(None),
                                                        Notification.next_try_at <= now + EARLY_TOLERANCE))
        same_attempt = and_(Notification.status == SENDING, Notification.message_id == row.message_id)
        others = session.scalars(select(Notification).where(
            Notification.id != row.id, Notification.recipient == row.recipient, Notification.digest.is_(True),
            or_(due, same_attempt) if takeover else due)
            .order_by(Notification.created_at, Notification.id).limit(DIGEST_LIMIT).with_for_update()).all()
        return replace(lead, batch=tuple(_take(other, row.message_id, now) for other in others))


def _take(row: Notification, message_id: str, now: datetime) -> Delivery:
    row.message_id = message_id
    row.status = SENDING
    row.attempts += 1
    row.next_try_at = now + SENDING_HOLD
    return Delivery(row.id, row.instance_id, row.template, row.recipient, dict(row.payload or {}), message_id,
                    row.attempts)


def _finish(services, delivery: Delivery, status: str, event: str, *, error: str | None = None,
            next_try_at: datetime | None = None, **detail) -> None:
    """The outcome of one attempt, for each row it sent (one, or a digest's)."""
    now = services.clock.now()
    if delivery.batch:
        detail = {**detail, "digest_of": len(delivery.rows)}
    with services.write_session.begin() as session:
        for item in delivery.rows:
            row = session.get(Notification, item.id, with_for_update=True, populate_existing=True)
            if row is None or row.status != SENDING or row.attempts != item.attempt:
                continue  # another attempt took over meanwhile; its outcome stands
            row.status = status
            row.last_error = error
            row.next_try_at = next_try_at
            if status == SENT:
                row.sent_at = now
            # No address in the audit trail's detail: the row holds it, the trail says what happened.
            audit.record(session, event, at=now, instance_id=row.instance_id, actor=SYSTEM_ACTOR,
                         notification_id=row.id, template=row.template, attempt=item.attempt, **detail)


def mark_sent(services: Services, delivery: Delivery) -> None:
    _finish(services, delivery, SENT, "notification_sent", message_id=delivery.message_id)


def mark_logged(services: Services, delivery: Delivery) -> None:
    """No SMTP server configured: the row stays in the outbox as the record of the mail."""
    _finish(services, delivery, LOGGED, "notification_logged")


def mark_failed(services: Services, delivery: Delivery, reason: str) -> None:
    _finish(services, delivery, FAILED, "notification_failed", error=reason, reason=reason)


def defer(services: Services, delivery: Delivery, reason: str, retry_at: datetime) -> None:
    """A temporary failure: back to pending, due again at `retry_at`."""
    _finish(services, delivery, PENDING, "notification_deferred", error=reason, next_try_at=retry_at,
            reason=reason, retry_at=retry_at.isoformat())


def due_notifications(services: Services, until: datetime, limit: int = 1000) -> list[tuple[int, datetime | None]]:
    """(id, next try) of rows still to send whose next try is before `until` (including crashed attempts)."""
    with services.read_session() as session:
        rows = session.execute(
            select(Notification.id, Notification.next_try_at)
            .where(Notification.status.in_((PENDING, SENDING)),
                   or_(Notification.next_try_at.is_(None), Notification.next_try_at <= until))
            .order_by(Notification.next_try_at, Notification.id).limit(limit))
        return [(row.id, row.next_try_at) for row in rows]


def in_flight(services: Services, limit: int = 1000) -> list[int]:
    """Ids of rows an attempt holds right now (`sending`, hold not over)."""
    with services.read_session() as session:
        return list(session.scalars(select(Notification.id).where(
            Notification.status == SENDING, Notification.next_try_at > services.clock.now())
            .order_by(Notification.id).limit(limit)))


def status_of(services: Services, notification_id: int) -> str | None:
    with services.read_session() as session:
        return session.scalar(select(Notification.status).where(Notification.id == notification_id))
