"""Reference numbers (`CMP-2026-000042`): one counter per prefix and year, safe under concurrency."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.core.db.models import ReferenceCounter
from engine.core.db.prepared import Prepared

if TYPE_CHECKING:
    pass


def _counter_upsert(upsert):
    stmt = upsert(ReferenceCounter).values(scope=bindparam("scope"), value=1)
    stmt = stmt.on_conflict_do_update(index_elements=["scope"], set_={"value": ReferenceCounter.value + 1})
    return Prepared(stmt.returning(ReferenceCounter.value))


_NEXT_NUMBER = {"postgresql": _counter_upsert(pg_insert), "sqlite": _counter_upsert(sqlite_insert)}


def next_reference(conn: Connection, prefix: str, year: int) -> str:
    """The next number of a prefix/year, safe under concurrency (one atomic upsert)."""
    scope = f"{prefix}-{year}"
    value = _NEXT_NUMBER[conn.dialect.name].scalar(conn, {"scope": scope})
    return f"{scope}-{value:06d}"


