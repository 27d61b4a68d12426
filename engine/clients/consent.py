"""What the client record decides about a case's outgoing mail, in the same transaction that queued it.

- A survey or marketing mail to a client goes only if they agreed to it (`consent_surveys`, `consent_marketing`);
  marketing mail needs a client record that says yes (opt-in); a survey to someone without a record is sent
  (it is part of the service they asked for, and the invitation says how to opt out).
  A mail is a survey or marketing mail by its template (`SURVEY_TEMPLATES`, `MARKETING_TEMPLATES`) or by a
  `purpose="survey"` / `purpose="marketing"` field given to `notify()`.
- A mail to the address the case recorded for its client goes to the address on the client record now, so a
  correction made once on the record reaches every running case.

`ConsentGate` is a kernel row writer (engine/core/hooks.py): after a save writes its outbox rows, it rewrites or
holds back the case's unsent rows before the transaction commits, so a worker never sees a held mail as
pending. A held mail keeps its row with status `suppressed` and the reason; the audit trail records
`notification_suppressed` (template and reason, never the address).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, null, select, update

from engine.clients.models import Client, ClientCase
from engine.core.db.models import Notification

SURVEY_TEMPLATES = frozenset({"survey_invitation"})
MARKETING_TEMPLATES = frozenset({"product_update"})
SUPPRESSED = "suppressed"
CLIENT, LINK, NOTE = Client.__table__, ClientCase.__table__, Notification.__table__
_CONSENT = (CLIENT.c.email, CLIENT.c.consent_surveys, CLIENT.c.consent_marketing, CLIENT.c.status)


def kind_of(template: str, payload: dict[str, Any] | None) -> str | None:
    """`survey`, `marketing` or None (a service mail, which consent does not stop)."""
    purpose = (payload or {}).get("purpose")
    if purpose in ("survey", "marketing"):
        return purpose
    if template in SURVEY_TEMPLATES:
        return "survey"
    if template in MARKETING_TEMPLATES:
        return "marketing"
    return None


def decide(link, by_address, template: str, recipient: str, payload: dict | None) -> tuple[str | None, str]:
    """(address to send to, "") or (None, reason to hold the mail back)."""
    recipient = recipient.lower()
    client = link if link is not None and recipient in (link.case_email, link.email) else None
    if client is not None and client.status == "erased":
        return None, "the client's personal data was erased"
    if client is not None and recipient == client.case_email and client.email != recipient:
        if not client.email:
            return None, "the client record holds no e-mail address"
        recipient = client.email
    kind = kind_of(template, payload)
    if kind is None:
        return recipient, ""
    client = client or by_address(recipient)
    if client is None:
        return (None, "marketing mail needs a client record with consent") if kind == "marketing" else (recipient, "")
    if not (client.consent_surveys if kind == "survey" else client.consent_marketing):
        return None, f"no consent to {kind} mail"
    return recipient, ""


class ConsentGate:
    """Kernel row writer: applies the client record to the unsent mails of the case just saved."""

    def __call__(self, conn: Connection, work) -> None:
        if not work.outbox.items:
            return
        instance_id = work.row.id
        rows = conn.execute(select(NOTE.c.id, NOTE.c.template, NOTE.c.recipient, NOTE.c.payload).where(
            NOTE.c.instance_id == instance_id, NOTE.c.status == "pending", NOTE.c.attempts == 0)).all()
        if not rows:
            return
        link = conn.execute(select(LINK.c.case_email, *_CONSENT).join(CLIENT, CLIENT.c.id == LINK.c.client_id)
                            .where(LINK.c.instance_id == instance_id)).first()

        def by_address(address: str):
            return conn.execute(select(null().label("case_email"), *_CONSENT).where(
                func.lower(CLIENT.c.email) == address, CLIENT.c.status != "erased")
                .order_by(CLIENT.c.id).limit(1)).first()

        for row in rows:
            recipient, reason = decide(link, by_address, row.template, row.recipient, row.payload)
            if recipient is None:
                conn.execute(update(NOTE).where(NOTE.c.id == row.id).values(status=SUPPRESSED, last_error=reason,
                                                                            next_try_at=None))
                work.record("notification_suppressed", notification_id=row.id, template=row.template,
                            reason=reason)
            elif recipient != row.recipient:
                conn.execute(update(NOTE).where(NOTE.c.id == row.id).values(recipient=recipient))
