"""A subject access record in plain language, for the page the person reads (the JSON beside it stays exact).

Keys become the labels the forms show the person, choices their display names, yes/no instead of true/false,
uploaded files "an uploaded document" instead of their internal reference, and the audit trail says what happened
in words. Internal values (hand-off payloads, ids, element ids, the process's working values) are left out.
Times stay datetimes: the web layer shows them in the display time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from engine.clients import KYC_INTERVALS
from engine.core.db.models import ProcessInstance
from engine.forms.schema import properties_of

if TYPE_CHECKING:
    from engine.facade import Engine
    from engine.privacy.subjects import SubjectInstance, SubjectRecord

STATUS_WORDS = {"running": "open", "completed": "closed", "cancelled": "cancelled", "error": "open (held up by "
                "a technical problem we are fixing)", "anonymised": "closed and anonymised", "erased": "erased"}
KIND_WORDS = {"personal": "personal information", "sensitive": "special personal information (kept confidential)"}
STEP_WORDS = {
    "instance_started": "Case opened", "task_completed": "Step done", "timer_fired": "Time limit reached",
    "message_received": "Message received", "instance_cancelled": "Case cancelled", "task_claimed":
    "Staff member took on a step", "task_unclaimed": "Staff member handed a step back", "task_assigned":
    "Step assigned", "task_reassigned": "Step reassigned", "task_released": "Step released", "task_delegated":
    "Step delegated", "task_refused": "An attempt to do a step was refused", "notification_sent": "Message sent",
    "notification_logged": "Message recorded", "notification_failed": "Message could not be delivered",
    "notification_deferred": "Message delayed", "notification_suppressed": "Message held back (no consent)",
    "client_linked": "Linked to your client record", "client_record_corrected": "Your client record was corrected",
    "document_uploaded": "Document uploaded", "document_viewed": "Document viewed", "instance_retried":
    "Held-up step run again", "instance_migrated": "Case moved to a newer version of the process",
    "instance_anonymised": "Case anonymised", "script_ran": "Automatic step",
    "handoff_failed": "Passing the case on failed; it will be retried",
}
MESSAGE_WORDS = {"sent": "sent", "pending": "waiting to be sent", "failed": "could not be delivered",
                 "suppressed": "not sent (you did not agree to it)", "logged": "recorded, not e-mailed"}
# Values a process sets that the person should see, with their label; every other unlabelled value is the process's
# own working data (deadlines, counters, staff addresses) and stays out of the page (the JSON has everything).
WORKING_VALUES = {"stage": "Where your case stands", "risk_rating": "Risk rating", "kyc_outcome":
                  "Outcome of the KYC review"}
DOCUMENT = re.compile(r"^doc-[0-9]+$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Values a case keeps for its own running, never about the person: ids, and the references the title shows.
INTERNAL = re.compile(r"(^_|_id$|_ids$|^reference$|^id$)")


@dataclass(frozen=True)
class PlainCase:
    """One case, as the person reads it."""

    title: str
    purpose: str
    status: str
    opened_at: datetime
    closed_at: datetime | None
    via_portal: bool
    personal: list[tuple[str, str, str]]  # label, kind in words, values
    recorded: list[tuple[str, str]]  # label, value in words
    open_work: list[tuple[str, datetime | None]]
    steps: list[tuple[datetime, str, str]]  # when, what, by


@dataclass(frozen=True)
class PlainClient:
    """The client record, as the person reads it."""

    fields: list[tuple[str, str]]
    cases: list[str]
    updated_at: datetime


@dataclass(frozen=True)
class PlainRecord:
    """Everything a subject access request found, as the person reads it."""

    generated_at: datetime
    clients: list[PlainClient]
    cases: list[PlainCase]
    messages: list[tuple[datetime | None, str, str, str]]  # when, to, what, status
    looks: list[tuple[datetime, str, str, str]]  # when, who, what, why


def plain_record(engine: Engine, record: SubjectRecord) -> PlainRecord:
    """The record in plain words (labels, display names, no internal keys)."""
    with engine.sql_engine.connect() as conn:
        cases = [_case(subject, *_labels(engine, conn, subject.detail.instance.id)) for subject in record.instances]
    clients = [PlainClient([(f["label"], words(_client_value(f.get("name"), f["value"]))) for f in entry["fields"]],
                           entry["cases"], datetime.fromisoformat(entry["updated_at"])) for entry in record.clients]
    messages = [(datetime.fromisoformat(n["created_at"]) if n.get("created_at") else None, n["recipient"],
                 _humane(n["template"]), MESSAGE_WORDS.get(n["status"], n["status"])) for n in record.notifications]
    looks = [(a.at, a.actor, _humane(a.action).lower(), a.why or "") for a in record.accesses]
    return PlainRecord(record.generated_at, clients, cases, messages, looks)


def _client_value(name: str | None, value: Any) -> Any:
    if name == "kyc_review_interval":
        return f"every {KYC_INTERVALS.get(value, value)}"
    return value


def _labels(engine: Engine, conn, instance_id: int) -> tuple[dict[str, tuple[str, dict]], dict[str, str]]:
    """Field path -> (title, choice display names) over every form of the case's process; element names by id."""
    definition_id = conn.scalar(select(ProcessInstance.definition_id).where(ProcessInstance.id == instance_id))
    model = engine.model(conn, definition_id)
    found: dict[str, tuple[str, dict]] = {}
    for name in sorted(model.forms):
        schema = model.forms[name]
        if not isinstance(schema, dict) or schema.get("type") != "object" or name.endswith(".ui.json"):
            continue
        ui = model.forms.get(name[:-len(".json")] + ".ui.json") or {}
        _walk(schema, ui, "", found)
    names = {spec.bpmn_id: spec.bpmn_name for group in (model.spec, *model.subprocess_specs.values())
             for spec in group.task_specs.values() if getattr(spec, "bpmn_name", None)}
    return found, names


def _walk(schema: dict, ui: dict, prefix: str, found: dict) -> None:
    for key, prop in properties_of(schema).items():
        if not isinstance(prop, dict):
            continue
        path = f"{prefix}{key}"
        field_ui = ui.get(key) if isinstance(ui.get(key), dict) else {}
        if prop.get("type") == "object":
            _walk(prop, field_ui, f"{path}.", found)
        if path not in found and prop.get("title"):
            names = field_ui.get("ui:enumNames")
            choices = dict(zip(prop.get("enum") or [], names or [], strict=False))
            found[path] = (prop["title"], choices)


def _case(subject: SubjectInstance, labels: dict[str, tuple[str, dict]], names: dict[str, str]) -> PlainCase:
    instance = subject.detail.instance
    fields = subject.privacy.paths
    status = "anonymised" if subject.anonymised else instance.status
    personal = [(labels.get(path, (fields[path].title if path in fields else _humane(path), {}))[0],
                 KIND_WORDS.get(fields[path].kind if path in fields else "personal", "personal information"),
                 "; ".join(values)) for path, values in subject.personal.items()]
    recorded: list[tuple[str, str]] = []
    for key, value in sorted(subject.detail.data.items()):
        _recorded(key, value, labels, recorded)
    steps = [(e.at, _step(e, names), e.actor or "") for e in subject.detail.events]
    return PlainCase(f"{subject.privacy.name} — {instance.reference or 'your case'}", subject.privacy.purpose,
                     STATUS_WORDS.get(status, status.replace("_", " ")), instance.started_at, instance.ended_at,
                     subject.portal_submission, personal, recorded,
                     [(t.name, t.due_at) for t in subject.detail.tasks], steps)


def _recorded(path: str, value: Any, labels: dict, out: list) -> None:
    if value in (None, "", [], {}) or INTERNAL.search(path.rsplit(".", 1)[-1]):
        return
    title, choices = labels.get(path, (None, {}))
    if isinstance(value, dict):
        if title is None:
            return  # a payload the process passes on (a hand-off, a message): internal, and its facts are above
        for key, inner in sorted(value.items()):
            _recorded(f"{path}.{key}", inner, labels, out)
        return
    if title is None and path not in WORKING_VALUES:
        return  # set by the process for its own running (deadlines, counters, staff addresses), not by a form
    label = title or WORKING_VALUES[path]
    if "." in path and path.split(".")[0] in labels:
        label = f"{labels[path.split('.')[0]][0]}: {label}"
    out.append((label, words(value, choices)))


def _humane(key: str) -> str:
    text = key.rsplit(".", 1)[-1].replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def words(value: Any, choices: dict | None = None) -> str:
    """A value as a person reads it."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(words(v, choices) for v in value)
    if isinstance(value, datetime | date):
        return f"{value.day} {value:%B %Y}"
    if isinstance(value, str):
        if choices and value in choices:
            return str(choices[value])
        if DOCUMENT.match(value):
            return "an uploaded document"
        if ISO_DATE.match(value):
            try:
                return words(date.fromisoformat(value))
            except ValueError:
                return value
        if re.fullmatch(r"[a-z]+(_[a-z]+)+", value):
            return value.replace("_", " ")
        return value
    return str(value)


def _step(event, names: dict[str, str]) -> str:
    what = STEP_WORDS.get(event.kind, _humane(event.kind))
    name = (event.detail.get("name") if isinstance(event.detail, dict) else None) or names.get(event.element_id)
    return f"{what}: {name}" if name else what
