"""Subject access requests: every instance, task, event, notification and access about one person.

A person is found by a value they gave on a form (an e-mail address, an ID number, a phone number, a name)
or by the reference of one of their cases; a reference is followed to the person through that case's
identifying values (e-mail fields and fields marked `x-identifier`), so their other cases are found too.
Only values under personal fields count as a match, so a case that merely mentions the text is not included.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select

from engine.core.db.models import AnonymisedInstance, Notification, ProcessInstance
from engine.errors import InvalidInput
from engine.portal import PORTAL_ACTOR
from engine.privacy import access_log
from engine.privacy.clients import clients_of_subject
from engine.privacy.datamap import PersonalField, ProcessPrivacy, process_privacy
from engine.privacy.scrub import personal_values
from engine.results import InstanceDetail

if TYPE_CHECKING:
    from engine.facade import Engine

# Instances the client portal starts carry the portal actor: they are the portal submissions.
PORTAL_ACTORS = frozenset({PORTAL_ACTOR})
MIN_TERM = 3
INSTANCE = ProcessInstance.__table__


@dataclass(frozen=True)
class SubjectInstance:
    """One case about the person: the case, why it holds their data, and everything recorded about it."""

    detail: InstanceDetail
    privacy: ProcessPrivacy
    matched: tuple[str, ...]
    personal: dict[str, list[str]]
    anonymised: bool

    @property
    def portal_submission(self) -> bool:
        return self.detail.instance.started_by in PORTAL_ACTORS

    def as_dict(self) -> dict[str, Any]:
        fields = self.privacy.paths
        return {
            "instance": self.detail.instance.as_dict(), "process_name": self.privacy.name,
            "purpose": self.privacy.purpose, "matched_on": list(self.matched),
            "portal_submission": self.portal_submission, "anonymised": self.anonymised,
            "personal_fields": {path: _field(fields.get(path), values) for path, values in self.personal.items()},
            "data": self.detail.data, "open_tasks": [t.as_dict() for t in self.detail.tasks],
            "timers": [t.as_dict() for t in self.detail.timers], "events": [e.as_dict() for e in self.detail.events],
        }


def _field(known: PersonalField | None, values: list[str]) -> dict[str, Any]:
    if known is None:
        return {"title": "", "kind": "personal", "values": values}
    return {"title": known.title, "kind": known.kind, "values": values}


@dataclass(frozen=True)
class SubjectRecord:
    """What a subject access request found."""

    generated_at: datetime
    instances: list[SubjectInstance]
    notifications: list[dict[str, Any]]
    accesses: list[access_log.Access] = field(default_factory=list)
    clients: list[dict[str, Any]] = field(default_factory=list)  # client records (engine/privacy/clients.py)

    @property
    def instance_ids(self) -> list[int]:
        return [i.detail.instance.id for i in self.instances]

    @property
    def empty(self) -> bool:
        return not self.instances and not self.notifications and not self.clients

    def as_dict(self) -> dict[str, Any]:
        return {"generated_at": self.generated_at.isoformat(), "instances": [i.as_dict() for i in self.instances],
                "notifications": self.notifications, "accesses": [a.as_dict() for a in self.accesses],
                "clients": self.clients}


def clean_term(term: Any) -> str:
    """The search text, or `InvalidInput` (the message never repeats what was typed: it may be personal)."""
    if not isinstance(term, str) or len(term.strip()) < MIN_TERM or len(term) > 255 or "\x00" in term:
        raise InvalidInput(f"give an e-mail address, ID number or case reference ({MIN_TERM} to 255 characters)")
    return term.strip()


def _key(value: str) -> str:
    """Comparison form: case, spaces and hyphens do not matter ("082 555-0101" is "0825550101")."""
    return re.sub(r"[\s\-]+", "", value).casefold()


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _patterns(term: str) -> set[str]:
    # States are JSON, where non-ASCII text is escaped: look for both spellings.
    return {_like(term), _like(json.dumps(term)[1:-1])}


def find_subject(engine: Engine, term: str) -> SubjectRecord:
    """Everything held about the person `term` identifies (an empty record when nothing matches)."""
    term = clean_term(term)
    with engine.sql_engine.connect() as conn:
        by_reference = list(conn.scalars(select(INSTANCE.c.id).where(
            func.upper(INSTANCE.c.reference) == term.upper())))
        terms = {term} | _identifiers_of(engine, conn, by_reference)
        matched: dict[int, set[str]] = {i: {"reference"} for i in by_reference}
        states: dict[int, tuple[dict, ProcessPrivacy]] = {}
        for text in sorted(terms):
            _match(engine, conn, text, matched, states)
        keys = {_key(t) for t in terms}
        notes = _notifications(conn, set(matched), keys)
        matched.update({n["instance_id"]: {"notification"} for n in notes
                        if n["instance_id"] and n["instance_id"] not in matched})
        anonymised = set(conn.scalars(select(AnonymisedInstance.instance_id).where(
            AnonymisedInstance.instance_id.in_(list(matched))))) if matched else set()
        accesses = access_log.search(conn, instance_ids=list(matched), limit=100_000) if matched else []
    found = []
    for instance_id in sorted(matched):
        state, privacy = states.get(instance_id) or _state_of(engine, instance_id)
        found.append(SubjectInstance(
            engine.instance_detail(instance_id), privacy, tuple(sorted(matched[instance_id])),
            {p: sorted(v) for p, v in sorted(personal_values(state, privacy.paths).items())},
            instance_id in anonymised))
    clients = clients_of_subject(engine, terms, sorted(matched))
    return SubjectRecord(engine.clock.now(), found, notes, accesses, clients)


def _match(engine: Engine, conn, text: str, matched: dict[int, set[str]], states: dict) -> None:
    wanted = _key(text)
    patterns = _patterns(text)
    rows = conn.execute(select(INSTANCE.c.id, INSTANCE.c.definition_id, INSTANCE.c.process_key,
                               INSTANCE.c.version, INSTANCE.c.label, INSTANCE.c.state).where(
        or_(*(INSTANCE.c.state.ilike(p, escape="\\") for p in patterns),
            *(INSTANCE.c.label.ilike(p, escape="\\") for p in patterns))))
    for row in rows:
        privacy = process_privacy(engine.model(conn, row.definition_id), row.process_key, row.version)
        state = json.loads(row.state)
        states[row.id] = (state, privacy)
        hits = {path for path, values in personal_values(state, privacy.paths).items()
                if any(_key(v) == wanted for v in values)}
        if row.label and _key(row.label) == wanted:
            hits.add("label")
        if hits:
            matched.setdefault(row.id, set()).update(hits)


def _identifiers_of(engine: Engine, conn, instance_ids: list[int]) -> set[str]:
    """The values of a case that identify its person: e-mail addresses and fields marked `x-identifier`."""
    found: set[str] = set()
    for instance_id in instance_ids:
        state, privacy = _state_of(engine, instance_id, conn)
        schema_paths = [f.path for f in privacy.fields if f.identifier or "email" in f.path.rsplit(".", 1)[-1]]
        for values in personal_values(state, schema_paths).values():
            found.update(v for v in values if len(v) >= MIN_TERM)
    return found


def _state_of(engine: Engine, instance_id: int, conn=None) -> tuple[dict, ProcessPrivacy]:
    if conn is None:
        with engine.sql_engine.connect() as own:
            return _state_of(engine, instance_id, own)
    row = conn.execute(select(INSTANCE.c.definition_id, INSTANCE.c.process_key, INSTANCE.c.version,
                              INSTANCE.c.state).where(INSTANCE.c.id == instance_id)).one()
    privacy = process_privacy(engine.model(conn, row.definition_id), row.process_key, row.version)
    return json.loads(row.state), privacy


def _notifications(conn, instance_ids: set[int], keys: set[str]) -> list[dict[str, Any]]:
    table = Notification.__table__
    clauses = [table.c.instance_id.in_(sorted(instance_ids))] if instance_ids else []
    clauses += [func.lower(table.c.recipient) == k for k in keys if "@" in k]
    if not clauses:
        return []
    rows = conn.execute(select(table).where(or_(*clauses)).order_by(table.c.id))
    return [{"id": r.id, "instance_id": r.instance_id, "template": r.template, "recipient": r.recipient,
             "payload": r.payload, "status": r.status, "created_at": _iso(r.created_at),
             "sent_at": _iso(r.sent_at)} for r in rows]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
