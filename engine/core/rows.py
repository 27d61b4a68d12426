"""The `process_instance` row without its state, and the statements of the hot path that read and write it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, insert, literal_column, select, update

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
_UPDATE_ROW = update(INSTANCE).where(*_LOCKED_ROW).values(
    **_SET_STATE, status=bindparam("b_status"), label=bindparam("b_label"), ended_at=bindparam("b_ended"),
    error_message=bindparam("b_error"), error_element_id=bindparam("b_error_element"),
    error_line=bindparam("b_error_line"))
UPDATE_ROW = Prepared(_UPDATE_ROW)


def _failing_when_stale(statement):
    """The UPDATE as a statement that fails (division by zero, SQLSTATE 22012) when it changed no row.

    On PostgreSQL a step's writes are sent as one pipelined batch (engine/core/db/pipeline.py), so the row count
    comes back too late to stop the statements after it; this failure makes the server skip them and COMMIT."""
    locked = statement.returning(INSTANCE.c.id).cte("locked")
    return Prepared(select(literal_column("1") / func.count()).select_from(locked))


UPDATE_STATE_CHECKED = _failing_when_stale(update(INSTANCE).where(*_LOCKED_ROW).values(**_SET_STATE))
UPDATE_ROW_CHECKED = _failing_when_stale(_UPDATE_ROW)


INSERT_ROW = Prepared(insert(INSTANCE).returning(INSTANCE.c.id), keys=[c.name for c in INSTANCE.c if c.name != "id"])
# On PostgreSQL a new instance's id is taken from its sequence with the start's first reads, so the INSERT needs
# no RETURNING and goes out in the write batch (engine/core/db/pipeline.py).
NEXT_ID = Prepared(select(func.nextval(func.pg_get_serial_sequence(INSTANCE.name, INSTANCE.c.id.name))))
INSERT_ROW_WITH_ID = Prepared(insert(INSTANCE), keys=[c.name for c in INSTANCE.c])


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


def first_read(task_id: str | None, instance_id: int | None) -> tuple[Prepared, dict[str, Any]]:
    """What a unit of work reads first: a task's open siblings with its instance's row, or the instance's row."""
    if task_id is not None:
        return _TASKS_WITH_ROW, {"task_id": task_id}
    return _SELECT_ROW, {"instance_id": instance_id}


def tasks_and_row(found: list) -> tuple[dict[str, Any], InstanceRow | None]:
    """The open task rows and the instance row from the rows of `first_read` of a task."""
    if not found:
        return {}, None
    first = found[0]
    return {r.id: r for r in found}, InstanceRow(**{name: getattr(first, label) for name, label in _ROW_FIELDS})


def row_of(found: list) -> InstanceRow | None:
    """The instance row from the rows of `first_read` of an instance."""
    return InstanceRow(**found[0]._asdict()) if found else None


def tasks_with_row(conn, task_id: str) -> tuple[dict[str, Any], InstanceRow | None]:
    return tasks_and_row(_TASKS_WITH_ROW.all(conn, {"task_id": task_id}))


def load_row(conn, instance_id: int) -> InstanceRow | None:
    return row_of(_SELECT_ROW.all(conn, {"instance_id": instance_id}))


