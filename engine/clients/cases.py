"""A client's cases: which processes link to the client record, matching a new case, and every case on one list.

A process declares its tie to the client record in a process-level spiffworkflow property `clientRecord`:
`create` (onboarding: the case makes the record, or finds it, and what its tasks record about the client is
written to it) or `link` (complaints, inquiries, feedback: the case is linked to the client its e-mail address
or registration number names, or to the one staff choose).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.clients import records
from engine.clients.models import Client, ClientCase
from engine.core import audit
from engine.core.db.models import ProcessInstance
from engine.errors import InstanceNotFound, InvalidClientData, InvalidInput

BINDING_PROPERTY = "clientRecord"
BINDINGS = ("create", "link")
# Process variables that hold a client's details, and the record field each one feeds.
FROM_CASE = {
    "company_name": "name", "registration_number": "registration_number",
    "company_registration_number": "registration_number", "contact_name": "contact_name",
    "client_email": "email", "contact_phone": "phone", "preferred_channel": "preferred_channel",
    "consent_surveys": "consent_surveys", "consent_marketing": "consent_marketing",
    "relationship_manager": "relationship_manager", "relationship_manager_email": "relationship_manager_email",
    "sla_response_hours": "sla_response_hours", "sla_resolution_days": "sla_resolution_days",
}
# A submission of one of these fields carries the case's KYC facts to the record: the risk table's rating and
# review interval (worked out right after the documents are collected or the KYC refreshed), and a KYC review's
# outcome with the day it was decided.
KYC_TRIGGERS = ("client_account_number", "company_registration_number", "kyc_outcome")
EMAIL_KEYS = ("client_email", "email", "submitter_email")
REGISTRATION_KEYS = ("registration_number", "company_registration_number", "client_registration_number")


@dataclass(frozen=True)
class CaseOfClient:
    """One case on a client's page."""

    instance_id: int
    process_key: str
    reference: str | None
    status: str
    started_at: datetime
    ended_at: datetime | None
    matched_on: str

    def as_dict(self) -> dict[str, Any]:
        return {"instance_id": self.instance_id, "process_key": self.process_key, "reference": self.reference,
                "status": self.status, "started_at": self.started_at.isoformat(),
                "ended_at": self.ended_at.isoformat() if self.ended_at else None, "matched_on": self.matched_on}


def binding(model) -> str | None:
    """The process's `clientRecord` property (`create`, `link`) or None; kept beside the built model."""
    if "_clientflow_binding" not in model.__dict__:
        model.__dict__["_clientflow_binding"] = _read_binding(model)
    return model.__dict__["_clientflow_binding"]


def _read_binding(model) -> str | None:
    value = model.properties.get(BINDING_PROPERTY)  # the process element's own properties (engine/core/bundle.py)
    return value if value in BINDINGS else None


def record_values(data: dict[str, Any], only: set[str] | None = None) -> dict[str, Any]:
    """The client-record fields a case's data holds (only those named in `only`, when given)."""
    return {FROM_CASE[k]: v for k, v in data.items() if k in FROM_CASE and (only is None or k in only)
            and v not in (None, "")}


def kyc_values(data: dict[str, Any], submitted: set[str], today) -> dict[str, Any]:
    """The KYC facts a completion records on the client (empty unless it submitted a KYC trigger)."""
    if not submitted & set(KYC_TRIGGERS):
        return {}
    found = {k: data[k] for k in ("risk_rating", "kyc_review_interval") if data.get(k)}
    if "kyc_outcome" in submitted and data.get("kyc_outcome"):
        found.update(kyc_outcome=data["kyc_outcome"], kyc_reviewed_on=today)
    return found


def _first(data: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def link_new_case(session: Session, instance_id: int, bound: str, data: dict[str, Any], *, by: str | None,
                  now: datetime) -> int | None:
    """Link a just-started case to its client (creating the record for `create` processes); the client id."""
    if session.get(ClientCase, instance_id) is not None:
        return session.get(ClientCase, instance_id).client_id
    email, registration = _first(data, EMAIL_KEYS), _first(data, REGISTRATION_KEYS)
    row, matched_on = records.match(session, email, registration)
    if row is None and bound == "create":
        values = record_values(data)
        values.pop("status", None)
        try:
            client = records.create(session, values, by=by, now=now)
        except InvalidClientData:
            return None  # the start form accepted it but the record cannot hold it: staff link it by hand
        row, matched_on = session.get(Client, client.id), "created"
    if row is None:
        return None
    _link(session, instance_id, row, matched_on, email, by=by, now=now)
    return row.id


def _link(session: Session, instance_id: int, row: Client, matched_on: str, case_email: str | None, *,
          by: str | None, now: datetime) -> None:
    session.add(ClientCase(instance_id=instance_id, client_id=row.id, matched_on=matched_on,
                           case_email=(case_email or "").lower() or None, linked_at=now, linked_by=by))
    audit.record(session, "client_linked", at=now, instance_id=instance_id, actor=by, client_id=row.id,
                 matched_on=matched_on)


def link_by_staff(session: Session, instance_id: int, client_id: int, case_email: str | None, *, by: str,
                  now: datetime) -> None:
    """Staff chose the client of a case (replacing an automatic match)."""
    if session.get(ProcessInstance, instance_id) is None:
        raise InstanceNotFound(f"no instance with id {instance_id}")
    row = records.get_row(session, client_id)
    if row.status == "erased":
        raise InvalidInput(f"client {client_id} was erased; choose another client")
    session.execute(delete(ClientCase).where(ClientCase.instance_id == instance_id))
    _link(session, instance_id, row, "staff", case_email, by=by, now=now)


def client_of(session: Session, instance_id: int) -> int | None:
    link = session.get(ClientCase, instance_id)
    return link.client_id if link else None


def cases_of(session: Session, client_id: int) -> list[CaseOfClient]:
    """Every case of the client, newest first."""
    rows = session.execute(
        select(ProcessInstance.id, ProcessInstance.process_key, ProcessInstance.reference, ProcessInstance.status,
               ProcessInstance.started_at, ProcessInstance.ended_at, ClientCase.matched_on)
        .join(ClientCase, ClientCase.instance_id == ProcessInstance.id)
        .where(ClientCase.client_id == client_id).order_by(ProcessInstance.started_at.desc(),
                                                           ProcessInstance.id.desc()))
    return [CaseOfClient(*r) for r in rows]


def record_corrections(session: Session, client_id: int, changed: dict[str, tuple[Any, Any]], *, by: str | None,
                       now: datetime) -> int:
    """Note a correction on every case of the client (field names only: the values are personal)."""
    if not changed:
        return 0
    fields = sorted(changed)
    audit.record(session, "client_record_corrected", at=now, actor=by, client_id=client_id, fields=fields)
    ids = list(session.scalars(select(ClientCase.instance_id).where(ClientCase.client_id == client_id)))
    for instance_id in ids:
        audit.record(session, "client_record_corrected", at=now, instance_id=instance_id, actor=by,
                     client_id=client_id, fields=fields)
    return len(ids)
