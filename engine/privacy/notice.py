"""The POPIA section 18 notice shown wherever a process's start form collects personal information.

One notice for every intake (staff start pages, the portal's intakes and its survey): it is built from the
deployed process itself, so it cannot drift from what the form collects: the purpose (the process's `purpose`
property), the personal fields of the start form, whether each is required, the lanes (roles) that see the case,
and the retention period. The web layer adds who the responsible party is (a setting) and renders it.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import ProcessNotFound
from engine.forms.schema import properties_of, required_of
from engine.forms.service import start_form_keys
from engine.privacy.datamap import NO_PURPOSE, process_privacy

STAFF_ONLY_LANES = frozenset({"Client"})  # the client's own lane: the client, not staff


@dataclass(frozen=True)
class CollectionNotice:
    """What a person is told before giving personal information to a process (POPIA s18(1))."""

    process_name: str
    purpose: str
    collected: tuple[str, ...]  # labels of the personal fields of the start form
    required: tuple[str, ...]  # those of them the form requires
    sensitive: bool  # special personal information or account/ID numbers among them
    seen_by: tuple[str, ...]  # the roles (lanes) that work on the case
    retention_days: int

    @property
    def stated_purpose(self) -> bool:
        return self.purpose != NO_PURPOSE


def collection_notice(engine, key: str, retention_days: int) -> CollectionNotice | None:
    """The notice for starting the newest version of `key`, or None when its start form collects nothing personal."""
    process = next((p for p in engine.processes() if p.key == key), None)
    if process is None:
        raise ProcessNotFound(f"no deployed process {key!r}")
    with engine.sql_engine.connect() as conn:
        model = engine.model(conn, process.definition_id)
    form_key, _ = start_form_keys(model)
    if not form_key or not isinstance(model.forms.get(form_key), dict):
        return None
    privacy = process_privacy(model, process.key, process.version)
    fields = [f for f in privacy.fields if form_key in f.forms]
    if not fields:
        return None
    schema = model.forms[form_key]
    titles = {f.path: _title(schema, f.path) for f in fields}
    required = required_of(schema)
    return CollectionNotice(
        privacy.name, privacy.purpose, tuple(titles[f.path] for f in fields),
        tuple(titles[f.path] for f in fields if f.path.split(".")[0] in required),
        any(f.kind == "sensitive" for f in fields),
        tuple(lane for lane in privacy.lanes if lane not in STAFF_ONLY_LANES), retention_days)


def _title(schema: dict, path: str) -> str:
    """The field's title as this form shows it (the same path may be titled differently on other forms)."""
    node, title = schema, path
    for part in path.split("."):
        node = properties_of(node).get(part) or {}
        title = node.get("title") or part
    return title
