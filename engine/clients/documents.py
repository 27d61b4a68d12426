"""Documents uploaded for a case (ID, registration, tax, bank letter, contract), kept outside the workflow state.

A form field marked `"x-document": "<kind>"` holds a reference `doc-<id>` to a `client_document` row of the same
case; the row keeps the file (type and size checked, SHA-256), its expiry date and who uploaded it. A user task
with the property `documentsValidFor` (`field=value`, e.g. `decision=approve`) cannot be completed with that
value while a document the case refers to has expired: the check runs in the completion's own transaction (a
kernel row writer), so a refusal saves nothing. Documents are served only to users with an access basis for
the case's process (its lanes, Compliance Officer, Admin) and are deleted when the case is erased.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import select

from engine.clients.models import ClientDocument
from engine.core import audit
from engine.core.tasks import properties
from engine.errors import InvalidInput, InvalidTaskData, NotFound

if TYPE_CHECKING:
    from engine.core.services import Services

DOCUMENT_KEYWORD = "x-document"
GATE_PROPERTY = "documentsValidFor"
KINDS = {"id": "Identity document", "registration": "Company registration certificate",
         "tax": "Tax clearance / compliance pin", "bank_confirmation": "Bank confirmation letter",
         "contract": "Signed contract", "other": "Other document"}
NO_EXPIRY = {"contract", "other"}  # a contract is dated when signed, not by an expiry
MAX_BYTES = 5 * 1024 * 1024
# Accepted types, recognised by their first bytes (the name and the browser's claim are not trusted).
SIGNATURES = ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))
REFERENCE = re.compile(r"^doc-([0-9]{1,12})$")


@dataclass(frozen=True)
class DocumentView:
    """A stored document without its content."""

    id: int
    instance_id: int
    kind: str
    filename: str | None
    content_type: str
    size: int
    sha256: str
    expires_on: date | None
    uploaded_by: str | None
    uploaded_at: datetime

    @property
    def reference(self) -> str:
        return f"doc-{self.id}"

    @property
    def label(self) -> str:
        return KINDS.get(self.kind, self.kind)


def _view(row) -> DocumentView:
    return DocumentView(row.id, row.instance_id, row.kind, row.filename, row.content_type, row.size, row.sha256,
                        row.expires_on, row.uploaded_by, row.uploaded_at)


def content_type_of(content: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES if content.startswith(magic)), None)


def check_upload(kind: str, filename: str | None, content: bytes, expires_on: date | str | None) -> tuple:
    """The checked (content type, file name, expiry) of an upload, or `InvalidInput` naming what is wrong."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown document kind {kind!r} (use one of {', '.join(KINDS)})")
    if not content:
        raise InvalidInput(f"the {KINDS[kind].lower()} file is empty")
    if len(content) > MAX_BYTES:
        raise InvalidInput(f"the {KINDS[kind].lower()} file is {len(content) / 1_048_576:.1f} MB; the limit is "
                           f"{MAX_BYTES // 1_048_576} MB")
    content_type = content_type_of(content)
    if content_type is None:
        raise InvalidInput(f"the {KINDS[kind].lower()} must be a PDF, PNG or JPEG file")
    if isinstance(expires_on, str):
        try:
            expires_on = date.fromisoformat(expires_on.strip()) if expires_on.strip() else None
        except ValueError as err:
            raise InvalidInput(f"the expiry date of the {KINDS[kind].lower()} is not a date (YYYY-MM-DD)") from err
    if expires_on is None and kind not in NO_EXPIRY:
        raise InvalidInput(f"give the expiry date of the {KINDS[kind].lower()}")
    name = re.sub(r"[^\w .()-]", "_", (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1])[:200] or None
    return content_type, name, expires_on


class DocumentStore:
    """Upload, list, open and erase the documents of cases (the facade holds one as `Engine.documents`)."""

    def __init__(self, services: Services):
        self.services = services

    def upload(self, instance_id: int, kind: str, filename: str | None, content: bytes,
               expires_on: date | str | None, by: str) -> DocumentView:
        content_type, name, expires = check_upload(kind, filename, content, expires_on)
        now = self.services.clock.now()
        digest = hashlib.sha256(content).hexdigest()
        with self.services.write_session.begin() as session:
            row = ClientDocument(instance_id=instance_id, kind=kind, filename=name, content_type=content_type,
                                 size=len(content), sha256=digest, expires_on=expires, uploaded_by=by,
                                 uploaded_at=now, content=content)
            session.add(row)
            session.flush()
            # The file name may be personal: the trail keeps kind, size and hash only.
            audit.record(session, "document_uploaded", at=now, instance_id=instance_id, actor=by, document=row.id,
                         document_kind=kind, size=len(content), sha256=digest)
            return _view(row)

    def of_instance(self, instance_id: int) -> list[DocumentView]:
        with self.services.read_session() as session:
            rows = session.scalars(select(ClientDocument).where(ClientDocument.instance_id == instance_id)
                                   .order_by(ClientDocument.id))
            return [_view(r) for r in rows]

    def get(self, document_id: int) -> DocumentView:
        with self.services.read_session() as session:
            row = session.get(ClientDocument, document_id)
            if row is None:
                raise NotFound(f"no document {document_id}")
            return _view(row)

    def open(self, document_id: int, by: str) -> tuple[DocumentView, bytes]:
        """The document and its bytes; the read is audited (the caller has checked `by` may see the case)."""
        now = self.services.clock.now()
        with self.services.write_session.begin() as session:
            row = session.get(ClientDocument, document_id)
            if row is None:
                raise NotFound(f"no document {document_id}")
            audit.record(session, "document_viewed", at=now, instance_id=row.instance_id, actor=by,
                         document=row.id, document_kind=row.kind)
            return _view(row), bytes(row.content)


# -- the completion check (a kernel row writer) ---------------------------------------------------------------

def document_fields(model) -> dict[str, dict[str, str]]:
    """Per form file, its `x-document` fields and their kinds; kept beside the model (a version never changes)."""
    cached = model.__dict__.get("_clientflow_documents")
    if cached is None:
        cached = {}
        for name, schema in model.forms.items():
            if isinstance(schema, dict) and schema.get("type") == "object":
                found = {field: prop[DOCUMENT_KEYWORD] for field, prop in (schema.get("properties") or {}).items()
                         if isinstance(prop, dict) and prop.get(DOCUMENT_KEYWORD)}
                if found:
                    cached[name] = found
        model.__dict__["_clientflow_documents"] = cached
    return cached


def check_completions(conn, work) -> None:
    """Refuse (InvalidTaskData, so the transaction saves nothing) a completion that names a document the case
    does not hold, or that gives a gated value (`documentsValidFor`) while a referenced document has expired."""
    fields = document_fields(work.model)
    if not fields:
        return
    for event in work.events:
        if event["kind"] != "task_completed":
            continue
        task = work.workflow.get_task_from_id(UUID(event["task_id"]))
        props = properties(task.task_spec)
        own = fields.get(props.get("formJsonSchemaFilename") or "", {})
        gate = props.get(GATE_PROPERTY)
        if own or gate:
            _check_task(conn, work, task.data, own, gate, fields)


def _check_task(conn, work, data: dict[str, Any], own: dict[str, str], gate: str | None,
                fields: dict[str, dict[str, str]]) -> None:
    every = {name: kind for found in fields.values() for name, kind in found.items()}
    wanted = {name: data.get(name) for name in every if data.get(name)}
    ids = {name: int(m.group(1)) for name, value in wanted.items() if (m := REFERENCE.match(str(value)))}
    rows = {r.id: r for r in conn.execute(select(ClientDocument.id, ClientDocument.kind, ClientDocument.expires_on)
                                          .where(ClientDocument.instance_id == work.row.id,
                                                 ClientDocument.id.in_(sorted(set(ids.values())))))} if ids else {}
    errors = {}
    for name in own:
        if name in wanted and (ids.get(name) not in rows or rows[ids[name]].kind != own[name]):
            errors[name] = [f"Upload the {KINDS.get(own[name], own[name]).lower()} for this case: "
                            f"{wanted[name]!s} is not one of its documents."]
    if errors:
        raise InvalidTaskData(errors)
    if not gate:
        return
    field, _, value = gate.partition("=")
    if str(data.get(field.strip())) != value.strip():
        return
    today = work.now.date()
    expired = sorted((rows[ids[n]].expires_on, KINDS.get(every[n], every[n])) for n in ids
                     if ids[n] in rows and rows[ids[n]].expires_on is not None and rows[ids[n]].expires_on < today)
    if expired:
        listed = "; ".join(f"the {label.lower()} expired on {when.isoformat()}" for when, label in expired)
        raise InvalidTaskData({field.strip(): [f"Cannot {value.strip()}: {listed}. Ask the client for a current "
                                               "document (request more information) first."]})
