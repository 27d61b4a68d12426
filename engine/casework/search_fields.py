"""A case's searchable fields: values the inbox's free-text search matches besides reference, client and task.

A form field marked `"x-searchable": true`, or named in the process property `searchableFields` (comma
separated, dotted for nested fields), is copied at every save to one `case_search_value` row per case and field
(a kernel row writer, in the save's transaction), so the inbox query never reads a workflow. A value that
disappears from the data loses its row; erasure rewrites the rows from the erased data. A field that is also
`x-personal` or `x-sensitive` is marked personal: it is matched only where the searcher may see the case's
personal data (their own lanes), never in a supervisor's team view.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, delete, exists, insert, not_, select

from engine.casework.models import CaseSearchValue
from engine.core.work import last_data, snapshot
from engine.forms.schema import personal_fields, properties_of

SEARCHABLE = "x-searchable"
PROCESS_PROPERTY = "searchableFields"
MAX_VALUE = 255
VALUES = CaseSearchValue.__table__
_MEMO = "_clientflow_search_values"


def searchable_fields(model) -> dict[str, bool]:
    """Dotted path -> whether it is personal, for the fields a process version declares searchable (cached)."""
    cached = model.__dict__.get("_clientflow_searchable")
    if cached is None:
        cached, personal = {}, set()
        for schema in model.forms.values():
            if isinstance(schema, dict) and schema.get("type") == "object":
                personal |= set(personal_fields(schema))
                cached.update({path: False for path in _marked(schema)})
        named = (model.properties.get(PROCESS_PROPERTY) or "") if hasattr(model, "properties") else ""
        cached.update({path.strip(): False for path in named.split(",") if path.strip()})
        cached = {path: path in personal for path in sorted(cached)}
        model.__dict__["_clientflow_searchable"] = cached
    return cached


def _marked(schema: dict, prefix: str = "") -> list[str]:
    found = []
    for name, prop in properties_of(schema).items():
        if not isinstance(prop, dict):
            continue
        if prop.get(SEARCHABLE) is True:
            found.append(prefix + name)
        if prop.get("type") == "object":
            found += _marked(prop, f"{prefix}{name}.")
    return found


def text_of(value: Any) -> str | None:
    """The searchable text of a data value: scalars as text, lists of scalars joined; None when empty."""
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value if v is not None and not isinstance(v, dict | list))
    if value is None or isinstance(value, dict) or isinstance(value, bool):
        return None
    text = str(value).strip()[:MAX_VALUE]
    return text or None


def _lookup(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def write_rows(conn, work) -> None:
    """Bring the case's searchable values up to date with this save (a kernel row writer)."""
    fields = searchable_fields(work.model)
    if not fields or work.row.id is None:
        return
    # As the reports' facts read it: the process data, the last completed step's, then each open step's (where a
    # correction of a running case lands).
    ready = (work.snapshot or snapshot(work.workflow)).ready_human
    data: dict[str, Any] = {}
    for source in (work.workflow.data, last_data(work.workflow), *(task.data for task in ready)):
        data.update(source)
    current = {path: text for path in fields if (text := text_of(_lookup(data, path))) is not None}
    written = getattr(work.workflow, _MEMO, None)
    if written is None and any(e["kind"] == "instance_started" for e in work.events):
        written = {}  # a new case has no rows yet
    if written == current:
        return
    if written or written is None:
        conn.execute(delete(VALUES).where(VALUES.c.instance_id == work.row.id))
    if current:
        conn.execute(insert(VALUES), [{"instance_id": work.row.id, "name": path, "value": text,
                                       "personal": fields[path]} for path, text in current.items()])
    setattr(work.workflow, _MEMO, current)


def matches(instance_id_column, pattern: str, personal: bool):
    """A clause: the case has a searchable value like `pattern` (LIKE, `\\` escapes); personal ones only when
    `personal` is true."""
    clause = and_(VALUES.c.instance_id == instance_id_column, VALUES.c.value.ilike(pattern, escape="\\"))
    if not personal:
        clause = and_(clause, not_(VALUES.c.personal))
    return exists(select(VALUES.c.instance_id).where(clause))
