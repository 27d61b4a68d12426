"""Erasure: one ended instance's personal data replaced by tombstones, in its state and every derived table.

The state is rewritten through the engine's unit of work (`unit_of_work.change`), so the optimistic lock holds
and the instance's derived rows are rewritten in the same transaction. Dates, statuses, categories, timers and
the audit trail's kinds and times stay, so report counts and durations are the same before and after.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sqlalchemy import and_, delete, func, insert, or_, select, update

from engine.casework.models import CaseComment, TaskDraft
from engine.clients.models import ClientDocument
from engine.core.db.models import AccessLogEntry, AnonymisedInstance, ErasureRequest, Event, HumanTask, Notification
from engine.core.unit_of_work import Work, change
from engine.core.users import UserView
from engine.errors import InvalidInput
from engine.privacy.datamap import process_privacy
from engine.privacy.scrub import MIN_SUBSTRING, TOMBSTONE, Scrubber, personal_values

if TYPE_CHECKING:
    from engine.facade import Engine

ENDED = ("completed", "cancelled")
ERASED_EVENT = "personal_data_erased"
EVENT, NOTE, TASK = Event.__table__, Notification.__table__, HumanTask.__table__
LOG, REQUEST, DONE = AccessLogEntry.__table__, ErasureRequest.__table__, AnonymisedInstance.__table__


def erase_instance(engine: Engine, instance_id: int, actor: UserView | str, *, basis: str,
                   request_id: int | None = None) -> int | None:
    """Erase one ended instance's personal data; returns how many personal fields held a value (None if the
    instance was anonymised before: erasing twice changes nothing)."""

    def act(work: Work) -> int | None:
        if work.row.status not in ENDED:
            raise InvalidInput(f"instance {work.row.reference or work.row.id} is {work.row.status}: only "
                               "completed or cancelled instances can be anonymised; cancel it first")
        if work.conn.execute(select(DONE.c.instance_id).where(DONE.c.instance_id == instance_id)).first():
            return None  # erased by a concurrent run after the check above
        privacy = process_privacy(work.model, work.row.process_key, work.row.version)
        state = json.loads(engine.serializer.dumps(work.workflow))
        found = personal_values(state, privacy.paths)
        # Categories (enum fields) and numbers are erased in place only; free text is chased into copies.
        spreading = {v for path, values in found.items() if _spreads(privacy.paths[path]) for v in values}
        if work.row.label:
            spreading.add(work.row.label)
        scrubber = Scrubber(privacy.paths, spreading)
        scrubber.state(state)
        work.workflow = engine.serializer.loads(json.dumps(state), work.model.spec, work.model.subprocess_specs)
        work.workflow.script_engine = engine.script_engine
        work.row.label = TOMBSTONE if work.row.label else None
        if work.row.error_message:
            work.row.error_message = scrubber.text(work.row.error_message)
        scrub_tables(work.conn, instance_id, scrubber)
        # Uploaded documents (ID, bank letter...) are personal as a whole: deleted, not scrubbed.
        work.conn.execute(delete(ClientDocument.__table__).where(ClientDocument.instance_id == instance_id))
        work.conn.execute(insert(DONE).values(instance_id=instance_id, at=work.now, basis=basis,
                                              request_id=request_id, fields=len(found)))
        work.record(ERASED_EVENT, basis=basis, request_id=request_id, fields=len(found))
        return len(found)

    if _anonymised(engine, instance_id):
        return None
    outcome, _ = change(engine.services, instance_id, actor, act, allow_ended=True)
    return outcome


def _anonymised(engine: Engine, instance_id: int) -> bool:
    with engine.sql_engine.connect() as conn:
        return conn.execute(select(DONE.c.instance_id).where(DONE.c.instance_id == instance_id)).first() is not None


def _spreads(field) -> bool:
    return field.string and not field.enum


def scrub_tables(conn, instance_id: int, scrubber: Scrubber) -> None:
    """The person's values out of the instance's events, tasks and notifications, and out of free-text notes."""
    for row in conn.execute(select(EVENT.c.id, EVENT.c.detail).where(EVENT.c.instance_id == instance_id)):
        detail = scrubber.data(row.detail or {})
        if detail != (row.detail or {}):
            conn.execute(update(EVENT).where(EVENT.c.id == row.id).values(detail=detail))
    for row in conn.execute(select(TASK.c.id, TASK.c.name).where(TASK.c.instance_id == instance_id)):
        if scrubber.text(row.name) != row.name:
            conn.execute(update(TASK).where(TASK.c.id == row.id).values(name=scrubber.text(row.name)))
    addresses = [v for v in scrubber.exact if "@" in v]
    # Mail of this instance, and mail to the person that lost its instance link; other cases keep theirs.
    for row in conn.execute(select(NOTE).where(or_(NOTE.c.instance_id == instance_id, and_(
            NOTE.c.instance_id.is_(None), func.lower(NOTE.c.recipient).in_(addresses))))):
        values = {"recipient": scrubber.text(row.recipient), "payload": scrubber.data(row.payload or {}),
                  "last_error": scrubber.text(row.last_error) if row.last_error else None}
        if row.status == "pending":
            values["status"] = "cancelled"  # nothing may be sent to an erased address
        conn.execute(update(NOTE).where(NOTE.c.id == row.id).values(**values))
    # Staff comments and kept form drafts are free text about the person: they go as a whole.
    conn.execute(delete(CaseComment.__table__).where(CaseComment.instance_id == instance_id))
    conn.execute(delete(TaskDraft.__table__).where(TaskDraft.instance_id == instance_id))
    _scrub_text(conn, LOG, LOG.c.why, scrubber)
    _scrub_text(conn, REQUEST, REQUEST.c.reason, scrubber)
    _scrub_text(conn, REQUEST, REQUEST.c.note, scrubber)


def _scrub_text(conn, table, column, scrubber: Scrubber) -> None:
    """Free text (an access reason, an erasure reason) that repeats the person's values."""
    long = [v for v in scrubber.exact if len(v) >= MIN_SUBSTRING]
    clauses = [column.ilike(_like(v), escape="\\") for v in long]
    clauses += [func.lower(column).in_(sorted(scrubber.exact))] if scrubber.exact else []
    if not clauses:
        return
    for row in conn.execute(select(table.c.id, column).where(or_(*clauses))):
        text = getattr(row, column.name)
        if text and scrubber.text(text) != text:
            conn.execute(update(table).where(table.c.id == row.id).values({column.name: scrubber.text(text)}))


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
