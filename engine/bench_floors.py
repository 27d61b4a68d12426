"""The benchmark's floors: one instance's rows written by the bare driver on a database of its own, no engine code.

Each floor writes exactly what a persisted instance of the bench model writes - the state row (inserted, then
updated under its lock version), the open task's row replaced, one audit event per step, the reference counter
on start - each step its own transaction, on its own SQLite file or PostgreSQL database (sharing the engine's
file would share its write-ahead log and checkpointer, and understate the floor). Both read what a client and the
engine read: the instance's task list before each step, and the task with its instance's row. Left out: building
rows, SpiffWorkflow, the rules. The PostgreSQL floor uses the engine's round-trip design
(engine/core/db/pipeline.py): autocommit reads, one pipelined transaction per step.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from engine.core.db.models import NO_DUE_DATE

NO_DUE = NO_DUE_DATE.replace(tzinfo=None).isoformat(" ", "microseconds")
_EVENT = "INSERT INTO event (instance_id, at, actor, kind, element_id, task_id, detail) VALUES ({})"
_TASK = ("INSERT INTO human_task (id, instance_id, process_key, element_id, name, lane, form_key, ui_form_key,"
         " claimed_by, created_at, due_at, sort_due) VALUES ({0},{0},'floor',{0},{0},NULL,NULL,NULL,NULL,{0},NULL,{0})")
_INSTANCE = ("INSERT INTO process_instance ({id}definition_id, process_key, version, status, reference, label, "
             "started_by, started_at, updated_at, state, serializer_version, lock_version) "
             "VALUES ({values}{0}, 'floor', 1, 'running', {0}, 'Bench Ltd', 'bench', {0}, {0}, {0}, '1.4', 1)")
_COUNTER = ("INSERT INTO reference_counter (scope, value) VALUES ('FLOOR', 1) ON CONFLICT (scope) "
            "DO UPDATE SET value = reference_counter.value + 1 RETURNING value")
_LISTING = "SELECT id, element_id FROM human_task WHERE instance_id = {0}"
_READING = ("SELECT h.id, p.lock_version FROM human_task h JOIN process_instance p ON p.id = h.instance_id "
            "WHERE h.instance_id = (SELECT instance_id FROM human_task WHERE id = {0})")
Steps = list[tuple[str, str | None]]  # (state JSON, next user task's element id) after the start and each step


@contextmanager
def sqlite_floor(path: str, definition_id: int, steps: Steps) -> Iterator[Callable[[], None]]:
    """One instance's rows with bare `sqlite3` on its own file: each step lists the tasks outside a transaction, then
    reads the task with its instance and writes in one `BEGIN IMMEDIATE` transaction, as the engine does."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    listing, reading = _LISTING.format("?"), _READING.format("?")

    def one() -> None:
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        conn.execute("BEGIN IMMEDIATE")
        number = conn.execute(_COUNTER).fetchone()[0]
        instance_id = conn.execute(_INSTANCE.format("?", id="", values=""),
                                   (definition_id, f"FLOOR-{number:08d}", now, now, steps[0][0])).lastrowid
        open_task = None
        for version, (state, element_id) in enumerate(steps, start=1):
            if version > 1:
                conn.execute(listing, (instance_id,)).fetchall()
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(reading, (open_task,)).fetchall()
                conn.execute("UPDATE process_instance SET state = ?, lock_version = ?, updated_at = ? "
                             "WHERE id = ? AND lock_version = ?", (state, version, now, instance_id, version - 1))
                conn.execute("DELETE FROM human_task WHERE id = ?", (open_task,))
            if element_id is not None:
                open_task = str(uuid.uuid4())
                conn.execute(_TASK.format("?"), (open_task, instance_id, element_id, element_id, now, NO_DUE))
            else:
                conn.execute("UPDATE process_instance SET status = 'completed', ended_at = ? WHERE id = ?",
                             (now, instance_id))
            conn.execute(_EVENT.format("?,?,?,?,?,?,?"), (instance_id, now, "bench", "task_completed", element_id,
                                                          open_task, '{"fields": ["amount"]}'))
            conn.execute("COMMIT")
        conn.execute(listing, (instance_id,)).fetchall()
    try:
        yield one
    finally:
        conn.close()


@contextmanager
def postgres_floor(url: str, definition_id: int, steps: Steps) -> Iterator[Callable[[], None]]:
    """One instance's rows with bare psycopg on its own database, in the engine's round trips: the start reads
    its id, takes its reference number and writes; each step lists the tasks, reads the task with its instance,
    and writes in one pipelined transaction whose locked UPDATE fails when the version moved on."""
    import psycopg

    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    next_id = "SELECT nextval(pg_get_serial_sequence('process_instance', 'id'))"
    locked = ("WITH locked AS (UPDATE process_instance SET state = %s, lock_version = %s, updated_at = %s "
              "WHERE id = %s AND lock_version = %s RETURNING id) SELECT 1 / count(*) FROM locked")
    listing, reading = _LISTING.format("%s"), _READING.format("%s")

    def one() -> None:
        now = datetime.now(UTC)
        instance_id = conn.execute(next_id).fetchone()[0]
        with conn.pipeline():
            conn.execute("BEGIN")
            number = conn.execute(_COUNTER).fetchone()[0]
            conn.execute(_INSTANCE.format("%s", id="id, ", values="%s, "),
                         (instance_id, definition_id, f"FLOOR-{number:08d}", now, now, steps[0][0]))
            open_task = _write_task(conn, instance_id, steps[0][1], now)
            conn.execute(_EVENT.format("%s,%s,%s,%s,%s,%s,%s"), (instance_id, now, "bench", "instance_started",
                                                                 None, None, '{"fields": ["customer_name"]}'))
            conn.execute("COMMIT")
        for version, (state, element_id) in enumerate(steps[1:], start=2):
            conn.execute(listing, (instance_id,)).fetchall()
            conn.execute(reading, (open_task,)).fetchall()
            with conn.pipeline():
                conn.execute("BEGIN")
                conn.execute(locked, (state, version, now, instance_id, version - 1))
                conn.execute("DELETE FROM human_task WHERE id = %s", (open_task,))
                done, open_task = open_task, _write_task(conn, instance_id, element_id, now)
                if element_id is None:
                    conn.execute("UPDATE process_instance SET status = 'completed', ended_at = %s WHERE id = %s",
                                 (now, instance_id))
                conn.execute(_EVENT.format("%s,%s,%s,%s,%s,%s,%s"), (instance_id, now, "bench", "task_completed",
                                                                     element_id, done, '{"fields": ["amount"]}'))
                conn.execute("COMMIT")
        conn.execute(listing, (instance_id,)).fetchall()
    try:
        yield one
    finally:
        conn.close()


def _write_task(conn: Any, instance_id: int, element_id: str | None, now: datetime) -> str | None:
    if element_id is None:
        return None
    task_id = str(uuid.uuid4())
    conn.execute(_TASK.format("%s"), (task_id, instance_id, element_id, element_id, now, NO_DUE_DATE))
    return task_id
