"""The personal data map: which fields of a deployed process are personal, why it holds them, who may see them.

Forms mark fields `"x-personal": true` (personal information) or `"x-sensitive": true` (special personal
information, bank details, ID numbers); `"x-identifier": true` marks a field that identifies the person on its
own (an ID number), so a subject access search by case reference can follow it to the person's other cases.
A process states its purpose in a process-level spiffworkflow property named `purpose`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent

from engine.core.tasks import properties
from engine.core.users import ADMIN_ROLE, UserView
from engine.forms.schema import personal_fields, properties_of
from engine.forms.service import FORM_PROPERTY
from engine.privacy.scrub import Scrubber, values_at
from engine.results import InstanceDetail

COMPLIANCE_ROLE = "Compliance Officer"
PRIVACY_ROLES = frozenset({ADMIN_ROLE, COMPLIANCE_ROLE})
PURPOSE_PROPERTY = "purpose"
RESTRICTED = "[restricted]"
NO_PURPOSE = "(no purpose stated: add a `purpose` property to the process)"


@dataclass(frozen=True)
class PersonalField:
    """One personal field of a process: its dotted path in the process data and where it is collected."""

    path: str
    kind: str
    title: str
    identifier: bool = False
    enum: bool = False
    string: bool = True
    forms: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaseRecord:
    """Personal data every case may hold beside its process data: seen by the same people, erased with the case."""

    table: str
    title: str
    on_erasure: str


# Kept in step with engine/privacy/erasure.py, which erases each of them.
CASE_RECORDS = (
    CaseRecord("client_document", "Documents and attachments uploaded on the case or its tasks (file name, type, "
                                  "size, SHA-256, content)", "deleted, content and all"),
    CaseRecord("case_comment", "Internal staff comments", "deleted"),
    CaseRecord("task_draft", "Unsubmitted answers kept as drafts", "deleted"),
    CaseRecord("notification", "Mail log: recipient address and mail fields", "personal values replaced, pending "
                                                                               "mail cancelled"),
    CaseRecord("case_search_value", "Searchable field values copied for the inbox search",
               "rewritten from the erased data"),
)


@dataclass(frozen=True)
class ProcessPrivacy:
    """The personal data one deployed process version holds, its purpose, and its lanes (roles)."""

    key: str
    version: int
    name: str
    purpose: str
    lanes: tuple[str, ...]
    fields: tuple[PersonalField, ...] = field(default_factory=tuple)
    records: tuple[CaseRecord, ...] = CASE_RECORDS

    @property
    def paths(self) -> dict[str, PersonalField]:
        return {f.path: f for f in self.fields}

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "version": self.version, "name": self.name, "purpose": self.purpose,
                "lanes": list(self.lanes),
                "fields": [{"path": f.path, "kind": f.kind, "title": f.title, "identifier": f.identifier,
                            "forms": list(f.forms), "tasks": list(f.tasks)} for f in self.fields],
                "records": [{"table": r.table, "title": r.title, "on_erasure": r.on_erasure} for r in self.records]}


def process_privacy(model, key: str, version: int) -> ProcessPrivacy:
    """The privacy facts of a built model; computed once and kept beside the model (a version never changes)."""
    cached = model.__dict__.get("_clientflow_privacy")
    if cached is None:
        cached = _build(model, key, version)
        model.__dict__["_clientflow_privacy"] = cached
    return cached


def _build(model, key: str, version: int) -> ProcessPrivacy:
    users_of = _form_users(model)
    found: dict[str, PersonalField] = {}
    for form_name in sorted(model.forms):
        schema = model.forms[form_name]
        if not isinstance(schema, dict) or schema.get("type") != "object":
            continue  # a UI schema, or a JSON file that is not a form
        for path, kind in personal_fields(schema).items():
            prop = _property(schema, path)
            known = found.get(path)
            forms = (*known.forms, form_name) if known else (form_name,)
            tasks = tuple(sorted({*(known.tasks if known else ()), *users_of.get(form_name, ())}))
            strongest = "sensitive" if "sensitive" in (kind, known.kind if known else "") else "personal"
            found[path] = PersonalField(path, strongest, prop.get("title") or path.rsplit(".", 1)[-1],
                                        bool(prop.get("x-identifier")) or bool(known and known.identifier),
                                        "enum" in prop, prop.get("type") == "string", forms, tasks)
    return ProcessPrivacy(key, version, model.name, _purpose(model) or NO_PURPOSE, _lanes(model),
                          tuple(found[p] for p in sorted(found)))


def _property(schema: dict, path: str) -> dict:
    node: dict = schema
    for part in path.split("."):
        node = properties_of(node).get(part) or {}
    return node


def _spec_groups(model):
    return [g for g in (model.spec, *model.subprocess_specs.values()) if g is not None]


def _form_users(model) -> dict[str, list[str]]:
    """Task (or start event) names by the form file they show."""
    users: dict[str, list[str]] = {}
    for group in _spec_groups(model):
        for spec in group.task_specs.values():
            form = properties(spec).get(FORM_PROPERTY)
            if form and (getattr(spec, "manual", False) or isinstance(spec, StartEvent)):
                label = spec.bpmn_name or spec.bpmn_id
                users.setdefault(form, []).append(f"start: {label}" if isinstance(spec, StartEvent) else label)
    return users


def _lanes(model) -> tuple[str, ...]:
    return tuple(sorted({s.lane for g in _spec_groups(model) for s in g.task_specs.values()
                         if getattr(s, "lane", None)}))


def _purpose(model) -> str | None:
    return (model.properties.get(PURPOSE_PROPERTY) or "").strip() or None


# -- least privilege ----------------------------------------------------------------------------------------

def access_basis(user: UserView, privacy: ProcessPrivacy, started_by: str | None) -> str | None:
    """Why `user` may see this instance's personal fields, or None when they may not."""
    if user.is_admin:
        return f"role {ADMIN_ROLE}"
    if COMPLIANCE_ROLE in user.roles:
        return f"role {COMPLIANCE_ROLE}"
    shared = sorted(user.roles & set(privacy.lanes))
    if shared:
        return f"lane {shared[0]}"
    if not privacy.lanes:
        return "process without lanes (open to all staff)"
    if started_by and started_by == user.username:
        return "started the case"
    return None


def redact(detail: InstanceDetail, privacy: ProcessPrivacy, user: UserView) -> InstanceDetail:
    """The detail as `user` may see it: outside their lanes, personal fields, the client label and any copy of
    their values (a greeting a script built, an audit note) are masked."""
    if access_basis(user, privacy, detail.instance.started_by) is not None:
        return detail
    masker = Scrubber(privacy.paths, [*spreading_values(privacy, detail.data), detail.instance.label or ""],
                      token=RESTRICTED, keep_types=False)
    instance = replace(detail.instance, label=RESTRICTED if detail.instance.label else None)
    tasks = [replace(t, label=RESTRICTED if t.label else None) for t in detail.tasks]
    events = [replace(e, detail=masker.data(e.detail)) for e in detail.events]
    return replace(detail, instance=instance, data=masker.data(detail.data), tasks=tasks, events=events)


def spreading_values(privacy: ProcessPrivacy, data: dict[str, Any]) -> set[str]:
    """Values of free-text personal fields: the ones worth chasing into copies (categories are not)."""
    return {str(v).strip() for f in privacy.fields if f.string and not f.enum
            for v in values_at(data, f.path) if isinstance(v, str) and v.strip()}
