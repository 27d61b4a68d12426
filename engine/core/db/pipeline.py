"""A PostgreSQL write transaction sent as one pipelined batch: one round trip for BEGIN, the writes and COMMIT.

A step's connection is in autocommit mode, so its reads (the task and instance row, the user) cost one round
trip each and no BEGIN/COMMIT of their own. Its writes go out in psycopg's pipeline mode: `BEGIN`, every
statement and `COMMIT` are queued and sent with a single `Sync`, and the server answers them together. A
statement that needs its result (a `RETURNING` id, a row writer's SELECT) syncs early, which costs one more
round trip but changes nothing else.

The optimistic lock cannot be checked in Python between the state `UPDATE` and `COMMIT` (both are already on
their way), so on PostgreSQL the state `UPDATE` is a statement that fails when it changed no row
(`engine.core.rows`, `1 / count(*)` over the updated rows): the server then skips every later statement of the
batch, `COMMIT` included, and the transaction is rolled back here - a stale version writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, event
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError

STALE_VERSION = "22012"  # division_by_zero: what the locked UPDATE raises when the version moved on


def _sqlstate(err: BaseException) -> str | None:
    for candidate in (err, getattr(err, "orig", None)):
        state = getattr(candidate, "sqlstate", None)
        if state:
            return state
    return None


_PIPELINE = "clientflow_pipeline"


def install(sql_engine: SqlEngine) -> None:
    """Let SQLAlchemy statements run inside `one_round_trip` (idempotent).

    In pipeline mode a cursor has no result until the batch is synced, so SQLAlchemy would take a SELECT for a
    statement without rows; a statement that returns rows syncs first (row writers' reads: one round trip
    each, as before). Writes without RETURNING stay queued."""
    if getattr(sql_engine, "_clientflow_pipelines", False):
        return
    sql_engine._clientflow_pipelines = True

    @event.listens_for(sql_engine, "after_cursor_execute")
    def _sync_for_rows(conn, _cursor, _statement, _parameters, context, _executemany):
        pipeline = conn.info.get(_PIPELINE)
        if pipeline is None:
            return
        compiled = context.compiled
        if (context.isinsert or context.isupdate or context.isdelete) and not (
                compiled is not None and compiled.effective_returning):
            return
        pipeline.sync()


@contextmanager
def one_round_trip(conn: Connection) -> Iterator[Connection]:
    """Run the body's statements as one transaction on an autocommit psycopg connection, sent in one batch."""
    raw = conn.connection.dbapi_connection
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        with raw.pipeline() as pipeline:
            conn.info[_PIPELINE] = pipeline
            raw.execute("BEGIN")
            yield conn
            raw.execute("COMMIT")
    except BaseException as err:
        _roll_back(conn, raw)
        if _sqlstate(err) == STALE_VERSION:
            raise StaleDataError("the instance is no longer at the version read; nothing was written") from err
        if isinstance(err, dbapi_error):  # raised by the pipeline's Sync: SQLAlchemy's class, as elsewhere
            raise DBAPIError.instance("COMMIT", (), err, dbapi_error, dialect=conn.dialect) from err
        raise
    finally:
        conn.info.pop(_PIPELINE, None)


def _roll_back(conn: Connection, raw) -> None:
    from psycopg import pq

    if raw.closed or raw.info.transaction_status == pq.TransactionStatus.IDLE:
        return
    try:
        raw.execute("ROLLBACK")
    except conn.dialect.loaded_dbapi.Error:
        conn.invalidate()  # a broken connection is never lent again
