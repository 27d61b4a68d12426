"""Client records: validating, creating, correcting, finding and reading them, and the SLA agreed with a client."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine.clients.models import Client
from engine.errors import ClientNotFound, InvalidClientData

KINDS = ("organisation", "person")
CHANNELS = ("email", "phone", "in_person", "post")
STATUSES = ("prospect", "active", "inactive", "erased")
ERASED = "[erased]"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{6,19}$")
_REGISTRATION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/ -]{1,39}$")

# The personal fields of a client record, with the label the POPIA tools show (docs/privacy.md).
PERSONAL_FIELDS = {
    "name": "Name", "registration_number": "Registration number", "contact_name": "Contact person",
    "email": "E-mail address", "phone": "Phone number",
}
LABELS = {
    **PERSONAL_FIELDS, "kind": "Organisation or person", "preferred_channel": "Preferred channel",
    "consent_surveys": "Agrees to satisfaction surveys", "consent_marketing": "Agrees to marketing mail",
    "relationship_manager": "Relationship manager", "relationship_manager_email": "Relationship manager e-mail",
    "sla_response_hours": "Agreed response time (hours)", "sla_resolution_days": "Agreed resolution time (days)",
    "status": "Status",
}
EDITABLE = tuple(LABELS)
# KYC facts: recorded by the processes (onboarding's risk table, each periodic kyc_review), not edited by hand.
KYC_LABELS = {"risk_rating": "Risk rating", "kyc_review_interval": "KYC review every",
              "kyc_reviewed_on": "KYC last reviewed", "kyc_outcome": "Outcome of the last KYC review"}
RISK_RATINGS = ("low", "medium", "high")
KYC_OUTCOMES = ("confirmed", "relationship_ended")
KYC_INTERVALS = {"P1Y": "year", "P6M": "six months", "P3M": "three months"}
_DURATION = re.compile(r"^P[0-9]{1,2}[YMWD]$")


@dataclass(frozen=True)
class ClientView:
    """A client record as callers see it."""

    id: int
    kind: str
    name: str
    registration_number: str | None
    contact_name: str | None
    email: str | None
    phone: str | None
    preferred_channel: str
    consent_surveys: bool
    consent_marketing: bool
    relationship_manager: str | None
    relationship_manager_email: str | None
    sla_response_hours: int | None
    sla_resolution_days: int | None
    status: str
    created_at: datetime
    updated_at: datetime
    updated_by: str | None
    risk_rating: str | None = None
    kyc_review_interval: str | None = None
    kyc_reviewed_on: date | None = None
    kyc_outcome: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"], data["updated_at"] = self.created_at.isoformat(), self.updated_at.isoformat()
        data["kyc_reviewed_on"] = self.kyc_reviewed_on.isoformat() if self.kyc_reviewed_on else None
        return data


@dataclass(frozen=True)
class AgreedSla:
    """The response and resolution times agreed with a client at activation (None where not agreed)."""

    client_id: int
    response_hours: int | None
    resolution_days: int | None


def view(row: Client) -> ClientView:
    return ClientView(**{f: getattr(row, f) for f in ClientView.__dataclass_fields__})


def _text(value: Any, field: str, limit: int, errors: dict, pattern: re.Pattern | None = None,
          message: str = "") -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or "\x00" in value:
        errors.setdefault(field, []).append("must be text")
        return None
    value = value.strip()
    if len(value) > limit:
        errors.setdefault(field, []).append(f"must be at most {limit} characters")
    elif pattern is not None and not pattern.match(value):
        errors.setdefault(field, []).append(message)
    return value


def _whole(value: Any, field: str, low: int, high: int, errors: dict) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.setdefault(field, []).append(f"must be a whole number from {low} to {high}")
        return None
    return value


def _flag(value: Any, field: str, errors: dict) -> bool | None:
    if isinstance(value, bool):
        return value
    if value in ("true", "on", "1", 1):
        return True
    if value in ("false", "off", "0", 0, ""):
        return False
    errors.setdefault(field, []).append("must be true or false")
    return None


def _choice(value: Any, field: str, options: tuple[str, ...], errors: dict) -> str | None:
    if value not in options:
        errors.setdefault(field, []).append(f"must be one of {', '.join(options)}")
        return None
    return value


def clean(changes: dict[str, Any]) -> dict[str, Any]:
    """The given fields checked and normalised, or `InvalidClientData` naming every bad field."""
    if not isinstance(changes, dict):
        raise InvalidClientData({"record": ["must be an object of fields"]})
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(changes) - set(EDITABLE))
    for name in unknown:
        errors[name] = ["is not a field of a client record"]
    out: dict[str, Any] = {}
    for name, value in changes.items():
        if name in ("name", "contact_name", "relationship_manager"):
            out[name] = _text(value, name, 200 if name == "name" else 120, errors)
        elif name in ("email", "relationship_manager_email"):
            out[name] = _text(value, name, 254, errors, _EMAIL, "must be an e-mail address")
            out[name] = out[name].lower() if out[name] else out[name]
        elif name == "phone":
            out[name] = _text(value, name, 30, errors, _PHONE, "must be a phone number, e.g. +27 13 516 0549")
        elif name == "registration_number":
            out[name] = _text(value, name, 40, errors, _REGISTRATION,
                              "may hold letters, digits, spaces, / and - (2 to 40 characters)")
        elif name == "kind":
            out[name] = _choice(value, name, KINDS, errors)
        elif name == "preferred_channel":
            out[name] = _choice(value, name, CHANNELS, errors)
        elif name == "status":
            out[name] = _choice(value, name, STATUSES[:-1], errors)
        elif name in ("consent_surveys", "consent_marketing"):
            out[name] = _flag(value, name, errors)
        elif name == "sla_response_hours":
            out[name] = _whole(value, name, 1, 72, errors)
        elif name == "sla_resolution_days":
            out[name] = _whole(value, name, 1, 30, errors)
    if "name" in changes and not out.get("name") and "name" not in errors:
        errors["name"] = ["is required"]
    if errors:
        raise InvalidClientData(errors)
    return out


def create(session: Session, values: dict[str, Any], *, by: str | None, now: datetime) -> ClientView:
    """A new client record from checked values (`name` required)."""
    values = clean(values)
    if not values.get("name"):
        raise InvalidClientData({"name": ["is required"]})
    row = Client(**{k: v for k, v in values.items() if v is not None}, created_at=now, updated_at=now,
                 updated_by=by)
    session.add(row)
    session.flush()
    return view(row)


def get_row(session: Session, client_id: int, *, for_update: bool = False) -> Client:
    row = session.get(Client, client_id, with_for_update=for_update or None)
    if row is None:
        raise ClientNotFound(f"no client record with id {client_id}")
    return row


def correct(session: Session, client_id: int, changes: dict[str, Any], *, by: str | None,
            now: datetime) -> tuple[ClientView, dict[str, tuple[Any, Any]]]:
    """Apply checked changes; returns the record and what changed (field -> (before, after))."""
    values = clean(changes)
    row = get_row(session, client_id, for_update=True)
    if row.status == "erased":
        raise InvalidClientData({"record": ["this client's personal data was erased; it cannot be changed"]})
    changed = {k: (getattr(row, k), v) for k, v in values.items() if getattr(row, k) != v}
    if "name" in changed and not values["name"]:
        raise InvalidClientData({"name": ["is required"]})
    for name, (_, after) in changed.items():
        setattr(row, name, after)
    if changed:
        row.updated_at, row.updated_by = now, by
    session.flush()
    return view(row), changed


def search(session: Session, text: str | None = None, limit: int = 100, offset: int = 0) -> list[ClientView]:
    query = select(Client).where(Client.status != "erased")
    if text and text.strip():
        like = "%" + text.strip().lower().replace("%", "").replace("_", "") + "%"
        query = query.where(or_(func.lower(Client.name).like(like), func.lower(Client.email).like(like),
                                func.lower(Client.registration_number).like(like),
                                func.lower(Client.contact_name).like(like)))
    return [view(r) for r in session.scalars(query.order_by(Client.name, Client.id).limit(limit).offset(offset))]


def match(session: Session, email: str | None, registration_number: str | None) -> tuple[Client | None, str]:
    """The client a case belongs to: by registration number first (it names an organisation), then e-mail."""
    if registration_number and registration_number.strip():
        key = registration_number.strip().upper()
        row = session.scalar(select(Client).where(func.upper(Client.registration_number) == key,
                                                  Client.status != "erased").order_by(Client.id).limit(1))
        if row is not None:
            return row, "registration_number"
    if email and email.strip():
        row = session.scalar(select(Client).where(func.lower(Client.email) == email.strip().lower(),
                                                  Client.status != "erased").order_by(Client.id).limit(1))
        if row is not None:
            return row, "email"
    return None, ""


def record_kyc(session: Session, client_id: int, values: dict[str, Any], *, by: str | None,
               now: datetime) -> dict[str, tuple[Any, Any]]:
    """Write the KYC facts a process found (unknown or malformed values are ignored: the forms and the risk
    table already checked them); returns what changed."""
    row = get_row(session, client_id, for_update=True)
    if row.status == "erased":
        return {}
    checks = {"risk_rating": lambda v: v in RISK_RATINGS, "kyc_outcome": lambda v: v in KYC_OUTCOMES,
              "kyc_review_interval": lambda v: isinstance(v, str) and bool(_DURATION.match(v)),
              "kyc_reviewed_on": lambda v: isinstance(v, date)}
    changed = {k: (getattr(row, k), v) for k, v in values.items()
               if k in checks and checks[k](v) and getattr(row, k) != v}
    for name, (_, after) in changed.items():
        setattr(row, name, after)
    if values.get("kyc_outcome") == "relationship_ended" and row.status != "inactive":
        changed["status"] = (row.status, "inactive")
        row.status = "inactive"
    if changed:
        row.updated_at, row.updated_by = now, by
    session.flush()
    return changed


def agreed_sla(session: Session, client_id: int) -> AgreedSla:
    """The SLA agreed with a client (read by the SLA engine and shown on the client page)."""
    row = get_row(session, client_id)
    return AgreedSla(row.id, row.sla_response_hours, row.sla_resolution_days)
