"""A case's mail log: the notifications it sent (status, attempts, times) and a rate-limited resend; and the
staff outbox of mails that failed, across cases."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, insert, or_, select

from engine.core.db.models import Event, Notification, ProcessInstance
from engine.core.unit_of_work import SaveResult
from engine.core.users import UserView
from engine.errors import InstanceNotFound, InvalidInput, NotificationNotFound

if TYPE_CHECKING:
    from engine.core.services import Services

NOTE = Notification.__table__
RESENT = "mail_resent"
# One resend of the same mail per this interval, and at most RESENDS_PER_HOUR resends per case in an hour.
RESEND_INTERVAL = timedelta(minutes=10)
RESENDS_PER_HOUR = 5


@dataclass(frozen=True)
class MailEntry:
    id: int
    template: str
    recipient: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    next_try_at: datetime | None
    last_error: str | None
    payload: dict[str, Any]

    @property
    def subject(self) -> str:
        return self.template.replace("_", " ").capitalize()


def mails_of(conn, instance_id: int) -> list[MailEntry]:
    """Every notification a case queued, newest first."""
    rows = conn.execute(select(NOTE).where(NOTE.c.instance_id == instance_id)
                        .order_by(NOTE.c.created_at.desc(), NOTE.c.id.desc())).all()
    return [_entry(r) for r in rows]


@dataclass(frozen=True)
class FailedMail:
    """A mail that failed for good, or is waiting to retry after an error, with its case and any resend."""

    mail: MailEntry
    instance_id: int | None
    reference: str | None
    resent_as: int | None


def _entry(r) -> MailEntry:
    return MailEntry(r.id, r.template, r.recipient, r.status, r.attempts, r.created_at, r.sent_at, r.next_try_at,
                     r.last_error, dict(r.payload or {}))


FAILING = or_(NOTE.c.status == "failed", and_(NOTE.c.status == "pending", NOTE.c.last_error.is_not(None)))


def failures(conn, limit: int = 50, offset: int = 0) -> tuple[list[FailedMail], int]:
    """Mails that failed (or wait to retry after an error), newest first, and how many there are."""
    total = conn.execute(select(func.count()).select_from(NOTE).where(FAILING)).scalar_one()
    rows = conn.execute(select(NOTE, ProcessInstance.reference).outerjoin(
        ProcessInstance, ProcessInstance.id == NOTE.c.instance_id).where(FAILING)
        .order_by(NOTE.c.created_at.desc(), NOTE.c.id.desc()).limit(limit).offset(offset)).all()
    cases = sorted({r.instance_id for r in rows if r.instance_id is not None})
    resent: dict[int, int] = {}
    if cases:
        for event in conn.execute(select(Event.detail).where(Event.kind == RESENT, Event.instance_id.in_(cases))
                                  .order_by(Event.id)):
            detail = event.detail or {}
            resent[detail.get("notification_id")] = detail.get("resent_as")
    return [FailedMail(_entry(r), r.instance_id, r.reference, resent.get(r.id)) for r in rows], total


def resend(services: Services, instance_id: int, notification_id: int, actor: UserView) -> int:
    """Queue the mail again (a new outbox row, same template, address and fields); returns the new row's id.

    Refused when that mail was resent less than RESEND_INTERVAL ago, or the case had RESENDS_PER_HOUR resends in
    the last hour, or the mail's address was erased."""
    now = services.clock.now()
    with services.write_connection() as conn:
        instance = conn.execute(select(ProcessInstance.status, ProcessInstance.definition_id)
                                .where(ProcessInstance.id == instance_id)).one_or_none()
        if instance is None:
            raise InstanceNotFound(f"no instance with id {instance_id}")
        row = conn.execute(select(NOTE).where(NOTE.c.id == notification_id,
                                              NOTE.c.instance_id == instance_id)).one_or_none()
        if row is None:
            raise NotificationNotFound(f"case {instance_id} sent no mail with id {notification_id}")
        if "@" not in row.recipient:
            raise InvalidInput("this mail's address was erased, so it cannot be sent again")
        _check_rate(conn, instance_id, notification_id, now)
        new_id = conn.execute(insert(NOTE).returning(NOTE.c.id).values(
            instance_id=instance_id, template=row.template, recipient=row.recipient, payload=row.payload,
            status="pending", attempts=0, next_try_at=now, created_at=now)).scalar_one()
        conn.execute(insert(Event).values(instance_id=instance_id, at=now, actor=actor.username, kind=RESENT,
                                          detail={"notification_id": notification_id, "resent_as": new_id,
                                                  "template": row.template}))
    services.notify_saved([SaveResult(instance_id, instance.status, instance.definition_id, [], [new_id])])
    return new_id


def _check_rate(conn, instance_id: int, notification_id: int, now: datetime) -> None:
    recent = conn.execute(select(Event.detail, Event.at).where(
        Event.instance_id == instance_id, Event.kind == RESENT, Event.at > now - timedelta(hours=1))).all()
    same = [r.at for r in recent if (r.detail or {}).get("notification_id") == notification_id]
    if same and max(same) > now - RESEND_INTERVAL:
        wait = max(same) + RESEND_INTERVAL - now
        raise InvalidInput(f"this mail was resent {int((now - max(same)).total_seconds() // 60)} minute(s) ago: "
                           f"try again in {math.ceil(wait.total_seconds() / 60)} minute(s)")
    if len(recent) >= RESENDS_PER_HOUR:
        raise InvalidInput(f"this case's mails were resent {RESENDS_PER_HOUR} times in the last hour: try again "
                           "later")
