"""Hot-path statements: a Core statement compiled once per dialect, then run straight on the DBAPI cursor.

A SQLAlchemy `Connection.execute` of an already-cached statement still costs tens of microseconds of Python
(events, parameter and result set-up; about 100 us on our 2-vCPU machine, against 2 us for a SQLite lookup) -
on a workflow step that runs six statements, as much as the step itself. `Prepared` keeps what SQLAlchemy
would work out on every call - the SQL text for the dialect, the order of its parameters and the type
processors of its parameters and result columns - and runs the statement on the cursor of the caller's
connection, inside the caller's transaction. The statement stays a Core
expression, so it is written once for SQLite and PostgreSQL and its types (UTC datetimes, JSON) behave
exactly as they do through SQLAlchemy.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Plan:
    sql: str
    names: tuple[str, ...]               # parameters in the order the SQL text wants them
    binds: tuple[Processor, ...]         # their type processors, same order
    defaults: dict[str, Any]             # values the statement carries itself (a LIMIT, a literal)
    positional: bool
    row: type | None                     # a namedtuple of the result columns (None: no rows)
    results: tuple[Processor, ...]       # result-column processors, same order as `row`'s fields
    plain: bool                          # no parameter needs converting
    plain_results: bool                  # no result column needs converting


class Prepared:
    """One Core statement, compiled for each dialect it meets and executed without SQLAlchemy's per-call work.

    `keys` names the parameters of an INSERT without `.values()` (the columns the rows will carry)."""

    def __init__(self, statement: ClauseElement, keys: Sequence[str] | None = None):
        self.statement = statement
        self.keys = list(keys) if keys is not None else None
        self._plans: dict[str, _Plan] = {}

    def _plan(self, dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = self._plans[dialect.name] = self._compile(dialect)
        return plan

    def _compile(self, dialect) -> _Plan:
        compiled = self.statement.compile(dialect=dialect, column_keys=self.keys)
        positional = bool(compiled.positional)
        names = tuple(compiled.positiontup if positional else compiled.binds)
        binds = tuple(compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names)
        defaults = {name: compiled.binds[name].effective_value for name in names
                    if not compiled.binds[name].required}
        columns = list(self.statement.exported_columns)  # what a SELECT or a RETURNING gives back
        row = namedtuple("Row", [c.key for c in columns], rename=True) if columns else None
        results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
        return _Plan(compiled.string, names, binds, defaults, positional, row, results, not any(binds),
                     not any(results))

    def _args(self, plan: _Plan, params: Mapping[str, Any]):
        if plan.defaults:
            params = {**plan.defaults, **params}
        if plan.plain:
            values = [params[name] for name in plan.names]
        else:
            values = [params[name] if process is None else process(params[name])
                      for name, process in zip(plan.names, plan.binds, strict=True)]
        return values if plan.positional else dict(zip(plan.names, values, strict=True))

    def _run(self, conn: Connection, plan: _Plan, args, many: bool = False, fetch: bool = False):
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            (cursor.executemany if many else cursor.execute)(plan.sql, args)
            return cursor.fetchall() if fetch else cursor.rowcount
        except conn.dialect.loaded_dbapi.Error as err:
            # The same exception classes SQLAlchemy raises (IntegrityError, OperationalError, ...).
            raise DBAPIError.instance(plan.sql, args, err, conn.dialect.loaded_dbapi.Error,
                                      dialect=conn.dialect) from err
        finally:
            cursor.close()

    def execute(self, conn: Connection, params: Mapping[str, Any] | None = None) -> int:
        """Run it; the number of rows it changed."""
        plan = self._plan(conn.dialect)
        return self._run(conn, plan, self._args(plan, params or {}))

    def execute_many(self, conn: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
        plan = self._plan(conn.dialect)
        args = [self._args(plan, row) for row in rows]
        if args:
            self._run(conn, plan, args, many=True)

    def all(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list:
        """Every result row, as named tuples with the statement's column keys."""
        plan = self._plan(conn.dialect)
        return self._rows(plan, self._run(conn, plan, self._args(plan, params or {}), fetch=True))

    @staticmethod
    def _rows(plan: _Plan, fetched) -> list:
        make, processors = plan.row._make, plan.results
        if plan.plain_results:
            return [make(r) for r in fetched]
        return [make([v if p is None else p(v) for v, p in zip(r, processors, strict=True)]) for r in fetched]

    def one_or_none(self, conn: Connection, params: Mapping[str, Any] | None = None):
        rows = self.all(conn, params)
        if len(rows) > 1:
            raise LookupError(f"expected at most one row, got {len(rows)}")
        return rows[0] if rows else None

    def scalar(self, conn: Connection, params: Mapping[str, Any] | None = None):
        """The first column of the first row (None when there is no row)."""
        rows = self.all(conn, params)
        return rows[0][0] if rows else None


def all_together(conn: Connection, reads: Sequence[tuple[Prepared, Mapping[str, Any]]]) -> list[list]:
    """The rows of several reads; on PostgreSQL sent as one pipelined batch, so they cost one round trip."""
    if conn.dialect.name != "postgresql":
        return [statement.all(conn, params) for statement, params in reads]
    raw = conn.connection.dbapi_connection
    plans = [(statement, statement._plan(conn.dialect), params) for statement, params in reads]
    cursors = [raw.cursor() for _ in plans]
    try:
        with raw.pipeline():  # leaving it sends one Sync and collects every result
            for cursor, (statement, plan, params) in zip(cursors, plans, strict=True):
                cursor.execute(plan.sql, statement._args(plan, params))
        fetched = [cursor.fetchall() for cursor in cursors]
    except conn.dialect.loaded_dbapi.Error as err:
        raise DBAPIError.instance(plans[0][1].sql, (), err, conn.dialect.loaded_dbapi.Error,
                                  dialect=conn.dialect) from err
    finally:
        for cursor in cursors:
            cursor.close()
    return [Prepared._rows(plan, rows) for (_, plan, _), rows in zip(plans, fetched, strict=True)]
