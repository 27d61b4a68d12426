"""The client record under POPIA: included in subject access results, erased with every case of the client.

A client record holds personal fields (`engine.clients.PERSONAL_FIELDS`); a subject access search finds the
records holding any identifying value of the person (or linked to their cases), and erasing a client erases
each of their ended cases (engine/privacy/erasure.py) and then the record itself.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from engine.clients import KYC_LABELS, LABELS, PERSONAL_FIELDS, ClientCase, ClientView
from engine.core.db.models import ProcessInstance
from engine.errors import InvalidInput
from engine.privacy.erasure import ENDED, erase_instance
from engine.privacy.requests import check_officer

if TYPE_CHECKING:
    from engine.facade import Engine

ERASURE_BASIS = "client record erased"


def client_entry(client: ClientView, references: list[str]) -> dict[str, Any]:
    """A client record as a subject access export shows it: labelled fields, the personal ones marked."""
    labels = {**LABELS, **KYC_LABELS}
    fields = [{"name": name, "label": label, "value": _json(getattr(client, name)), "personal": name in PERSONAL_FIELDS}
              for name, label in labels.items() if getattr(client, name) not in (None, "")]
    return {"id": client.id, "fields": fields, "cases": references,
            "created_at": client.created_at.isoformat(), "updated_at": client.updated_at.isoformat()}


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def clients_of_subject(engine: Engine, terms: set[str], instance_ids: list[int]) -> list[dict[str, Any]]:
    """The client records of the person: those holding one of `terms`, and those their cases link to."""
    found = {c.id: c for c in engine.clients.matching(terms)}
    with engine.read_session() as session:
        linked = set(session.scalars(select(ClientCase.client_id).where(ClientCase.instance_id.in_(instance_ids)))
                     ) if instance_ids else set()
    for client_id in sorted(linked - set(found)):
        client = engine.clients.get(client_id)
        if client.status != "erased":
            found[client_id] = client
    entries = []
    for client in sorted(found.values(), key=lambda c: c.id):
        references = [c.reference or f"#{c.instance_id}" for c in engine.clients.cases(client.id)]
        entries.append(client_entry(client, references))
    return entries


def erase_client(engine: Engine, client_id: int, by: str) -> int:
    """Erase every case of the client, then the record (Compliance Officer or Admin); the number of cases.

    Refused, changing nothing, while a case of the client is still open: cancel or finish it first."""
    check_officer(engine.user(by))
    ids = engine.clients.case_ids(client_id)
    with engine.read_session() as session:
        open_cases = session.execute(select(ProcessInstance.reference, ProcessInstance.status).where(
            ProcessInstance.id.in_(ids), ProcessInstance.status.not_in(ENDED))).all() if ids else []
    if open_cases:
        listed = ", ".join(f"{r.reference} ({r.status})" for r in open_cases)
        raise InvalidInput(f"client {client_id} still has open cases: {listed}; finish or cancel them first")
    for instance_id in ids:
        erase_instance(engine, instance_id, by, basis=ERASURE_BASIS)
    engine.clients.erase_record(client_id, by, ERASURE_BASIS)
    return len(ids)
