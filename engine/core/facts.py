"""Reportable facts: a few process data values copied to `instance_fact` at save time, for SQL reports.

Reports must never deserialize a workflow, yet they group and filter by values that live in the process data
(a complaint's category and severity, a survey's rating). At every save the engine copies the values of the
documented `REPORTABLE_KEYS` to one `instance_fact` row each, in the state's transaction. A fact keeps its last
non-empty value: a key that disappears from the data leaves the row as it was. `set_at` is when the value last
changed (a survey rating's `set_at` is when it was given).

The same call notes on each `task_completed` event how long the task was open (`waited_ms`, from its
`human_task` row), so reports can tell how long work waited at a step (e.g. the compliance gate).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.core.db.models import InstanceFact

# The process data keys reports use; each becomes one `instance_fact` row per instance that has it.
REPORTABLE_KEYS = (
    "category",         # complaint category (complaint_intake/complaint_register forms)
    "severity",         # complaint severity: low, medium, high, critical
    "channel",          # how a complaint or suggestion came in
    "rating",           # satisfaction score 1-5 (feedback_survey form)
    "about_reference",  # the complaint/onboarding a survey answer is about
    "risk_rating",      # onboarding risk from the compliance check
)
MAX_VALUE_LENGTH = 255

FACT = InstanceFact.__table__
# The facts last written for a workflow object; the engine's live cache keeps the object between saves, so an
# unchanged fact costs no statement. After a restore from the database everything is written again (an upsert
# that leaves an unchanged value and its `set_at` alone).
_MEMO = "_clientflow_reported_facts"


def _upsert(insert):
    stmt = insert(FACT)
    return stmt.on_conflict_do_update(
        index_elements=[FACT.c.instance_id, FACT.c.name],
        set_={"value": stmt.excluded.value, "number": stmt.excluded.number, "set_at": stmt.excluded.set_at},
        where=FACT.c.value != stmt.excluded.value)


_UPSERT = {"postgresql": _upsert(pg_insert), "sqlite": _upsert(sqlite_insert)}


def fact_value(value: Any) -> tuple[str, float | None] | None:
    """The (text, number) a data value is stored as; None for values that are not facts (empty, nested)."""
    if value is None or isinstance(value, dict | list | tuple | set):
        return None
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, int | float):
        number = float(value)
        return (str(value), number) if math.isfinite(number) else None
    text = str(value).strip()[:MAX_VALUE_LENGTH]
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text, None
    return text, number if math.isfinite(number) else None


def facts_of(sources: Iterable[Mapping[str, Any]]) -> dict[str, tuple[str, float | None]]:
    """The reportable facts in these data dicts; a later dict wins over an earlier one."""
    found: dict[str, tuple[str, float | None]] = {}
    for data in sources:
        for key in REPORTABLE_KEYS:
            if key in data:
                fact = fact_value(data[key])
                if fact is not None:
                    found[key] = fact
    return found


def _data_sources(workflow, ready_tasks: list) -> list[Mapping[str, Any]]:
    last = workflow.last_task
    return [workflow.data, last.data if last is not None else {}, *(task.data for task in ready_tasks)]


def _stamp_waits(work) -> None:
    open_tasks = work.open_tasks or {}
    for event in work.events:
        if event["kind"] == "task_completed" and event["task_id"] in open_tasks:
            opened = open_tasks[event["task_id"]].created_at
            event["detail"]["waited_ms"] = max(0, round((work.now - opened).total_seconds() * 1000))


def record(conn, work, ready_tasks: list) -> None:
    """Write the facts of one unit of work that changed, and stamp completed tasks' events with their wait."""
    _stamp_waits(work)
    workflow = work.workflow
    current = facts_of(_data_sources(workflow, ready_tasks))
    written = getattr(workflow, _MEMO, None) or {}
    changed = [{"instance_id": work.row.id, "name": name, "value": text, "number": number, "set_at": work.now}
               for name, (text, number) in current.items() if written.get(name) != (text, number)]
    if changed:
        conn.execute(_UPSERT[conn.dialect.name], changed)
    setattr(workflow, _MEMO, {**written, **current})
