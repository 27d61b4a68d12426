"""How staff pages word what the engine stores: durations in words and audit details with names, not ids."""

from __future__ import annotations

from typing import Any

from engine.forms.labels import Labels, duration_words
from engine.results import ProcessView
from flask import Blueprint, g

from webapp.extensions import get_engine

bp = Blueprint("wording", __name__)

# Audit detail keys as staff read them; other keys are put in words ('matched_on' -> 'Matched on').
DETAIL_TITLES = {"taken": "Took", "fields": "Fields", "key": "Process", "template": "Mail",
                 "notification_id": "Mail no.", "client_id": "Client no."}


@bp.app_template_filter("duration_words")
def duration_in_words(value: Any, business: bool = False) -> Any:
    """'P5D' -> '5 days' (with `business`: '5 business days'); anything else unchanged."""
    return duration_words(value, business) or value


@bp.app_template_filter("hours_in_words")
def hours_in_words(hours: float | None) -> str:
    """A measured time given in hours, at a scale one reads: '12 min', '3.5 h', '2.5 days'; '—' when none."""
    if hours is None:
        return "—"
    if hours * 60 < 1:
        return "under 1 min"
    if hours < 1:
        return f"{round(hours * 60)} min"
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def latest_processes() -> list[ProcessView]:
    """The deployed processes (latest versions), read once per request: pages list them and name rows by them."""
    if "latest_processes" not in g:
        g.latest_processes = get_engine().processes()
    return g.latest_processes


@bp.app_template_global("process_name")
def process_name(key: str) -> str:
    """A process's name from its latest version (looked up once per request), else its key."""
    if "process_names" not in g:
        g.process_names = {p.key: p.name or p.key for p in latest_processes()}
    return g.process_names.get(key, key)


@bp.app_template_global("audit_details")
def audit_details(detail: dict[str, Any], names: dict[str, str], labels: Labels) -> list[tuple[str, str]]:
    """(title, text) of an audit event's details: element and field names instead of ids, option labels."""
    rows = []
    for key, value in sorted(detail.items()):
        if key == "taken":
            text = ", ".join(names.get(str(item)) or labels.value("", str(item)) for item in _listed(value))
        elif key == "fields":
            text = ", ".join(labels.title(str(item)) for item in _listed(value))
        elif isinstance(value, list | tuple):
            text = labels.values(key, list(value))
        else:
            text = str(labels.value(key, value))
        rows.append((DETAIL_TITLES.get(key) or labels.title(key), text))
    return rows


@bp.app_template_global("failed_fields")
def failed_fields(form) -> list[tuple[str, str, str]]:
    """(element id to focus, label, first error) of each field of a WTForms form that failed, nested ones too."""
    found = []
    for f in form:
        if not f.errors or f.type in ("CSRFTokenField", "HiddenField"):
            continue
        if f.type == "FormField":
            found.extend(failed_fields(f.form))
            continue
        grouped = f.type in ("RadioField", "MultiCheckboxField") or type(f.widget).__name__ == "ListWidget"
        errors = f.errors if isinstance(f.errors, list | tuple) else [str(e) for e in f.errors.values()]
        found.append((f"{f.id}-0" if grouped else f.id, f.label.text, str(errors[0])))
    return found


def _listed(value: Any) -> list:
    return list(value) if isinstance(value, list | tuple) else [value]
