"""Staff mail about a case's SLA goes out in business hours unless the case is urgent, and bursts as one digest.

A kernel row writer (engine/core/hooks.py), run after the SLA clocks in every save: the case's new outbox rows
whose template is one of its SLA file's `staff_mail` (warnings and escalations by default) are dated to go out
when the policy's calendar is open (`delivery_time`), and marked as digest rows. A digest row queued while the
calendar is open waits `digest_minutes`, or joins a window a row for the same recipient already opened, so a
burst goes out together (the rule of `escalation.digest`, applied one row at a time). Rows held for the next
opening all go at that opening, and the worker sends a recipient's due digest rows as one mail listing each case
(engine/core/outbox.py `claim`). Urgent cases' mail is neither held nor gathered.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from engine.core.db.models import Notification

from .calendar import BusinessCalendar
from .escalation import delivery_time
from .policies import targets_for
from .service import SlaService, case_data

NOTE = Notification.__table__


def send_at(calendar: BusinessCalendar, now: datetime, window: timedelta, open_window: datetime | None) -> datetime:
    """When a non-urgent staff mail queued at `now` goes: the next opening when the calendar is closed; else when
    the recipient's open digest window (`open_window`) closes, or a new window of `window` from now."""
    opening = delivery_time(calendar, now, urgent=False)
    if opening > now:
        return opening
    return open_window if open_window is not None and open_window > now else now + window


class OfficeHoursMail:
    """Kernel row writer: dates and marks the staff mail of the case just saved (see the module docstring)."""

    def __init__(self, sla: SlaService):
        self.sla = sla

    def __call__(self, conn, work) -> None:
        if not work.outbox.items or work.row.status == "error":
            return
        case_sla = self.sla.case_sla(work.model)
        if case_sla is None:
            return
        now = work.now
        rows = conn.execute(select(NOTE.c.id, NOTE.c.template, NOTE.c.recipient).where(
            NOTE.c.instance_id == work.row.id, NOTE.c.status == "pending", NOTE.c.attempts == 0,
            NOTE.c.created_at == now, NOTE.c.template.in_(sorted(case_sla.staff_mail)))
            .order_by(NOTE.c.id)).all()
        if not rows:
            return
        data = case_data(work)
        if case_sla.is_urgent(data):
            return  # urgent: at once, at any hour, each mail on its own
        calendar = case_sla.policy.calendar or self._rule_calendar(case_sla, data)
        if calendar is None:
            return
        window = timedelta(minutes=case_sla.digest_minutes)
        reason = "outside business hours" if delivery_time(calendar, now, urgent=False) > now \
            else "gathered into a digest"
        for row in rows:
            open_window = conn.execute(select(NOTE.c.next_try_at).where(
                NOTE.c.recipient == row.recipient, NOTE.c.digest.is_(True), NOTE.c.status == "pending",
                NOTE.c.next_try_at > now).order_by(NOTE.c.next_try_at.desc()).limit(1)).scalar()
            when = send_at(calendar, now, window, open_window)
            conn.execute(update(NOTE).where(NOTE.c.id == row.id).values(next_try_at=when, digest=True))
            work.record("notification_held", notification_id=row.id, template=row.template,
                        until=when.isoformat(), reason=reason)

    @staticmethod
    def _rule_calendar(case_sla, data) -> BusinessCalendar | None:
        targets = targets_for(case_sla.policy, data)
        return next((t.calendar for t in targets.values()), None)

