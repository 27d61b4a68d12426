"""The `process_instance` row without its state, and the statements of the hot path that read and write it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, select, update

from engine.core import tasks
from engine.core.db.models import ProcessInstance
from engine.core.db.prepared import Prepared

if TYPE_CHECKING:
    pass


INSTANCE = ProcessInstance.__table__
ROW_COLUMNS = [c for c in INSTANCE.c if c.name != "state"]


@dataclass
class InstanceRow:
    """The columns of one `process_instance` row except its state (read and written with Core statements)."""

    id: int | None
    definition_id: int
    process_key: str
    version: int
    status: str
    reference: str | None
    label: str | None
    started_by: str | None
    started_at: Any
    updated_at: Any
    ended_at: Any
    serializer_version: str
    lock_version: int
    error_message: str | None
    error_element_id: str | None
    error_line: int | None

    def listed(self) -> tuple:
        """The columns listings and indexes read: a save writes them only when one of them changed."""
        return (self.status, self.label, self.ended_at, self.error_message, self.error_element_id,
                self.error_line)


# Statements on the hot path are built once: building a SQLAlchemy expression costs more than running it.
_SELECT_ROW = Prepared(select(*ROW_COLUMNS).where(INSTANCE.c.id == bindparam("instance_id")))
SELECT_STATE = Prepared(select(INSTANCE.c.state).where(INSTANCE.c.id == bindparam("instance_id")))
_SET_STATE = dict(state=bindparam("b_state"), serializer_version=bindparam("b_serializer"),
                  lock_version=bindparam("b_new_lock"), updated_at=bindparam("b_updated"))
_LOCKED_ROW = (INSTANCE.c.id == bindparam("b_id"), INSTANCE.c.lock_version == bindparam("b_lock"))
# Most steps change only the state: leaving the indexed columns out of the SET spares SQLite rewriting
# their index entries (a page each in the write-ahead log).
UPDATE_STATE = Prepared(update(INSTANCE).where(*_LOCKED_ROW).values(**_SET_STATE))
UPDATE_ROW = Prepared(update(INSTANCE).where(*_LOCKED_ROW).values(
    **_SET_STATE, status=bindparam("b_status"), label=bindparam("b_label"), ended_at=bindparam("b_ended"),
    error_message=bindparam("b_error"), error_element_id=bindparam("b_error_element"),
    error_line=bindparam("b_error_line")))


INSERT_ROW = Prepared(insert(INSTANCE).returning(INSTANCE.c.id), keys=[c.name for c in INSTANCE.c if c.name != "id"])


_HUMAN = tasks.HUMAN
# A task's open sibling rows (what the rules and `tasks.sync_rows` read of them) and its instance's row, in one
# statement: the first thing a completion or a claim reads.
_TASKS_WITH_ROW = Prepared(
    select(*(_HUMAN.c[name] for name in ("id", "element_id", "lane", "form_key", "ui_form_key", "claimed_by",
                                         "due_at", "created_at")),
           *[c.label(f"i_{c.name}") for c in ROW_COLUMNS])
    .join_from(_HUMAN, INSTANCE, _HUMAN.c.instance_id == INSTANCE.c.id)
    .where(_HUMAN.c.instance_id == select(_HUMAN.c.instance_id).where(_HUMAN.c.id == bindparam("task_id"))
           .scalar_subquery()))


_ROW_FIELDS = [(c.name, f"i_{c.name}") for c in ROW_COLUMNS]


def tasks_with_row(conn, task_id: str) -> tuple[dict[str, Any], InstanceRow | None]:
    found = _TASKS_WITH_ROW.all(conn, {"task_id": task_id})
    if not found:
        return {}, None
    first = found[0]
    return {r.id: r for r in found}, InstanceRow(**{name: getattr(first, label) for name, label in _ROW_FIELDS})


def load_row(conn, instance_id: int) -> InstanceRow | None:
    found = _SELECT_ROW.one_or_none(conn, {"instance_id": instance_id})
    return InstanceRow(**found._asdict()) if found is not None else None


