"""Files uploaded for a case, kept outside the workflow state: documents (ID, registration, tax, bank letter,
contract) and attachments (any allowed file a colleague adds to a case or one of its tasks).

A form field marked `"x-document": "<kind>"` holds a reference `doc-<id>` to a `client_document` row of the same
case; the row keeps the file (type and size checked, SHA-256), its expiry date and who uploaded it. A user task
with the property `documentsValidFor` (`field=value`, e.g. `decision=approve`) cannot be completed with that
value while a document the case refers to has expired: the check runs in the completion's own transaction (a
kernel row writer), so a refusal saves nothing. Documents are served only to users with an access basis for
the case's process (its lanes, Compliance Officer, Admin) and are deleted when the case is erased.

An attachment is a row of kind `attachment` (no expiry), optionally tied to the task it was added on. Every
upload passes the deployment's `UploadPolicy` (size, types, virus scan: engine/clients/uploads.py).
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
from engine.clients.uploads import UploadPolicy, safe_filename
from engine.core import audit
from engine.core.db.models import HumanTask, ProcessInstance
from engine.core.tasks import properties
from engine.errors import InstanceNotFound, InvalidInput, InvalidTaskData, NotFound, TaskNotFound

if TYPE_CHECKING:
    from engine.core.services import Services

DOCUMENT_KEYWORD = "x-document"
GATE_PROPERTY = "documentsValidFor"
KINDS = {"id": "Identity document", "registration": "Company registration certificate",
         "tax": "Tax clearance / compliance pin", "bank_confirmation": "Bank confirmation letter",
         "contract": "Signed contract", "other": "Other document", "attachment": "Attachment"}
ATTACHMENT = "attachment"
NO_EXPIRY = {"contract", "other", ATTACHMENT}  # a contract is dated when signed, not by an expiry
REFERENCE = re.compile(r"^doc-([0-9]{1,12})$")


@dataclass(frozen=True)
class DocumentView:
    """A stored document or attachment without its content."""

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
    task_id: str | None = None
    task_name: str | None = None

    @property
    def reference(self) -> str:
        return f"doc-{self.id}"

    @property
    def label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "reference": self.reference, "instance_id": self.instance_id, "kind": self.kind,
                "label": self.label, "filename": self.filename, "content_type": self.content_type,
                "size": self.size, "sha256": self.sha256,
                "expires_on": self.expires_on.isoformat() if self.expires_on else None,
                "uploaded_by": self.uploaded_by, "uploaded_at": self.uploaded_at.isoformat(),
                "task_id": self.task_id, "task_name": self.task_name}


def _view(row) -> DocumentView:
    return DocumentView(row.id, row.instance_id, row.kind, row.filename, row.content_type, row.size, row.sha256,
                        row.expires_on, row.uploaded_by, row.uploaded_at, row.task_id, row.task_name)


def check_upload(kind: str, filename: str | None, content: bytes, expires_on: date | str | None,
                 policy: UploadPolicy | None = None) -> tuple:
    """The checked (content type, file name, expiry) of an upload, or `InvalidInput` naming what is wrong."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown document kind {kind!r} (use one of {', '.join(KINDS)})")
    what = f"the {KINDS[kind].lower()}"
    content_type = (policy or UploadPolicy()).check(what, filename, content, scans_only=kind != ATTACHMENT)
    if kind == ATTACHMENT and expires_on:
        raise InvalidInput("an attachment has no expiry date (upload a document of its kind to record one)")
    if isinstance(expires_on, str):
        try:
            expires_on = date.fromisoformat(expires_on.strip()) if expires_on.strip() else None
        except ValueError as err:
            raise InvalidInput(f"the expiry date of {what} is not a date (YYYY-MM-DD)") from err
    if expires_on is None and kind not in NO_EXPIRY:
        raise InvalidInput(f"give the expiry date of {what}")
    return content_type, safe_filename(filename), expires_on


class DocumentStore:
    """Upload, list, open and erase the files of cases (the facade holds one as `Engine.documents`)."""

    def __init__(self, services: Services, policy: UploadPolicy | None = None):
        self.services = services
        self.policy = policy or UploadPolicy()

    def upload(self, instance_id: int, kind: str, filename: str | None, content: bytes,
               expires_on: date | str | None, by: str, task_id: str | None = None) -> DocumentView:
        """Store a checked file for the case (and the open task `task_id` of it); audited."""
        content_type, name, expires = check_upload(kind, filename, content, expires_on, self.policy)
        now = self.services.clock.now()
        digest = hashlib.sha256(content).hexdigest()
        with self.services.write_session.begin() as session:
            case = session.get(ProcessInstance, instance_id)
            if case is None:
                raise InstanceNotFound(f"no instance with id {instance_id}")
            task_name = None
            if task_id is not None:
                task = session.get(HumanTask, task_id)
                if task is None or task.instance_id != instance_id:
                    raise TaskNotFound(f"case {case.reference or instance_id} has no open task {task_id}")
                task_name = task.name
            row = ClientDocument(instance_id=instance_id, kind=kind, filename=name, content_type=content_type,
                                 size=len(content), sha256=digest, expires_on=expires, uploaded_by=by,
                                 uploaded_at=now, content=content, task_id=task_id, task_name=task_name)
            session.add(row)
            session.flush()
            # The file name may be personal: the trail keeps kind, size and hash only.
            audit.record(session, "document_uploaded", at=now, instance_id=instance_id, actor=by, document=row.id,
                         document_kind=kind, size=len(content), sha256=digest, task_id=task_id)
            return _view(row)

    def attach(self, instance_id: int, filename: str | None, content: bytes, by: str,
               task_id: str | None = None) -> DocumentView:
        """Add an attachment to a case, or to one of its open tasks."""
        return self.upload(instance_id, ATTACHMENT, filename, content, None, by, task_id=task_id)

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
