"""What the kernel needs, built once by the facade: connections, clock, caches, serializer, sandbox, form checks."""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, event
from sqlalchemy.engine import Engine as SqlEngine

from engine.clock import Clock, SystemClock
from engine.core import spiff
from engine.core.db import pipeline
from engine.core.db.database import WRITE_OPTION, session_factories
from engine.core.definitions import ModelCache
from engine.core.outbox import notify
from engine.core.sandbox import SandboxLimits, SandboxPool
from engine.core.scripts import script_engine
from engine.core.serializer import StateSerializer

# A kept PostgreSQL connection idle for longer than this is pinged before use (one round trip); one used more
# recently is not: the pool's pre-ping on every checkout would add a round trip to every step.
PING_AFTER_S = 2.0


class IdleConnections:
    """A few open SQLAlchemy connections kept between write transactions, for this process only.

    With `ping_after` (seconds), a connection that stayed idle longer is pinged when taken, and replaced if the
    server no longer answers (a restart, a dropped link)."""

    def __init__(self, sql_engine: SqlEngine, size: int = 4, ping_after: float | None = None, **options):
        self._engine = sql_engine.execution_options(**options)
        self._size = size
        self._ping_after = ping_after
        self._idle: deque[tuple[Connection, float]] = deque()
        self._pid = os.getpid()
        # `dispose()` closes the pool's idle connections; these are idle too.
        event.listen(sql_engine, "engine_disposed", lambda _engine: self.close())

    def take(self) -> Connection:
        if self._pid != os.getpid():  # a forked child never uses its parent's connections
            self._idle, self._pid = deque(), os.getpid()
        while True:
            try:
                conn, since = self._idle.pop()
            except IndexError:
                return self._engine.connect()
            if self._ping_after is None or time.monotonic() - since < self._ping_after or self._alive(conn):
                return conn

    def _alive(self, conn: Connection) -> bool:
        try:
            if conn.dialect.do_ping(conn.connection.dbapi_connection):
                return True
        except conn.dialect.loaded_dbapi.Error:
            pass
        conn.invalidate()
        conn.close()
        return False

    def give(self, conn: Connection) -> None:
        if conn.in_transaction():  # autocommit connections: SQLAlchemy's own bookkeeping, nothing is sent
            conn.rollback()
        if len(self._idle) < self._size and not conn.invalidated and self._pid == os.getpid():
            self._idle.append((conn, time.monotonic()))
        else:
            conn.close()

    @contextmanager
    def lend(self, transaction: bool) -> Iterator[Connection]:
        """An open connection for one unit of work (in a transaction or not), kept for the next when it ends
        well: checking one out of the pool and back costs as much as a small transaction."""
        conn = self.take()
        try:
            if transaction:
                with conn.begin():
                    yield conn
            else:
                yield conn
        except BaseException:
            conn.close()
            raise
        self.give(conn)

    def close(self) -> None:
        while True:
            try:
                conn, _since = self._idle.pop()
            except IndexError:
                return
            conn.close()


class LiveWorkflows:
    """A small LRU of restored workflows keyed by instance id, valid only for one `lock_version`.

    An entry is taken out while in use, so two threads never share a workflow object."""

    def __init__(self, size: int = 256):
        self._items: OrderedDict[int, tuple[int, Any]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def take(self, instance_id: int, lock_version: int):
        with self._lock:
            entry = self._items.pop(instance_id, None)
        if entry is not None and entry[0] == lock_version:
            return entry[1]
        return None

    def put(self, instance_id: int, lock_version: int, workflow) -> None:
        if self._size <= 0:
            return
        with self._lock:
            self._items[instance_id] = (lock_version, workflow)
            self._items.move_to_end(instance_id)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class FormChecks(Protocol):
    """The form rules the kernel applies on deploy, start and completion (engine/forms/ provides them)."""

    def check_model(self, model: Any) -> None: ...

    def clean(self, model: Any, form_key: str | None, ui_key: str | None, data: dict[str, Any],
              current: dict[str, Any]) -> dict[str, Any]: ...

    def clean_start(self, model: Any, data: dict[str, Any]) -> dict[str, Any]: ...


SaveListener = Callable[[list[Any]], None]
MAX_STATE_BYTES = 1024 * 1024


class Services:
    """Everything a kernel function may use; the facade builds one and hands it to every call.

    Kernel functions take this object, never the `Engine` facade, so the kernel cannot call back up into a use
    case (engine/README.md, "Layers")."""

    def __init__(self, sql_engine: SqlEngine, forms: FormChecks, *, clock: Clock | None = None,
                 form_dirs: list[Path] | None = None, sandbox_limits: SandboxLimits | None = None,
                 live_cache_size: int = 256, max_state_bytes: int = MAX_STATE_BYTES,
                 max_variable_bytes: int = 256 * 1024, check_state: bool = False):
        spiff.lift_depth_limit()
        self.sql_engine = sql_engine
        self.write_session, self.read_session = session_factories(sql_engine)
        # Kept connections skip the pool's pre-ping: worth it on SQLite (a local file, where checkout costs as much
        # as a small transaction), not on a server that may restart under them.
        self._writers = IdleConnections(sql_engine, size=4 if sql_engine.dialect.name == "sqlite" else 0,
                                        **{WRITE_OPTION: True})
        # A step on PostgreSQL reads in autocommit mode and sends its writes as one pipelined transaction
        # (engine/core/db/pipeline.py); on SQLite it is one `BEGIN IMMEDIATE` transaction on a kept connection.
        self._pipelined = sql_engine.dialect.name == "postgresql"
        if self._pipelined:
            pipeline.install(sql_engine)
        self._steps = IdleConnections(sql_engine, size=4, ping_after=PING_AFTER_S, isolation_level="AUTOCOMMIT",
                                      **{WRITE_OPTION: True}) if self._pipelined else self._writers
        self.clock = clock or SystemClock()
        self.form_dirs = list(form_dirs or [])
        self.models = ModelCache()
        self.live = LiveWorkflows(live_cache_size)
        self.forms = forms
        # One pool of sandbox processes per Services (started on first use); disposing the SQL engine (app
        # shutdown, tests) stops its processes, and a later script starts new ones.
        self.sandbox = SandboxPool(sandbox_limits or SandboxLimits())
        event.listen(sql_engine, "engine_disposed", lambda _engine: self.sandbox.release())
        self.script_engine = script_engine(self.sandbox, {"notify": notify})
        self.max_state_bytes, self.max_variable_bytes = max_state_bytes, max_variable_bytes
        self.serializer = StateSerializer(check=check_state)
        self._listeners: list[SaveListener] = []

    def write_connection(self) -> AbstractContextManager[Connection]:
        """A write transaction on a plain connection (the hot path skips the ORM session)."""
        return self._writers.lend(transaction=True)

    def step_connection(self) -> AbstractContextManager[Connection]:
        """The connection of one unit of work: in a write transaction on SQLite, in autocommit mode on
        PostgreSQL, where `step_transaction` then wraps the writes."""
        return self._steps.lend(transaction=not self._pipelined)

    def step_transaction(self, conn: Connection) -> AbstractContextManager[Connection]:
        """The writes of a unit of work: one pipelined transaction on PostgreSQL (one round trip); on SQLite
        the step connection's transaction is already open."""
        return pipeline.one_round_trip(conn) if self._pipelined else nullcontext(conn)

    def quick_read(self) -> AbstractContextManager[Connection]:
        """A connection for a read of one or two `Prepared` statements, on the connection writes use.

        A single statement needs no transaction: on SQLite a reader that just wrote still has the pages in its
        cache, and on PostgreSQL an autocommit read is one round trip instead of three (BEGIN, read, COMMIT)."""
        return self._steps.lend(transaction=False)

    def on_save(self, listener: SaveListener) -> None:
        """Call `listener` after each committed change (e.g. to schedule new timers on RQ)."""
        self._listeners.append(listener)

    def notify_saved(self, results: list[Any]) -> None:
        for listener in self._listeners:
            listener(results)
