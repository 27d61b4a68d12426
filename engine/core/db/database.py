"""Database engine set-up: SQLite pragmas and write transactions that take the lock up front."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

WRITE_OPTION = "clientflow_write"
log = logging.getLogger(__name__)

# Pages the log may hold before a committing connection checkpoints it itself: only a safety net, as the
# background checkpointer below normally keeps the log far shorter.
WAL_SAFETY_NET_PAGES = 20_000
CHECKPOINT_EVERY_S = 0.25
# Planner statistics (class Statistics): from about 8 MB of data, again at each doubling; at most this many rows
# read per index (a bounded ANALYZE: 0.3-0.8 s at 100,000 open cases here), checked once a minute.
ANALYZE_FROM_PAGES = 2_000
ANALYZE_GROWTH = 2
ANALYZE_ROWS = 1_000
ANALYZE_CHECK_S = 60.0


class Checkpointer:
    """Copies SQLite's write-ahead log into the database file from a background thread.

    By default the connection whose commit crosses 1,000 log pages does that copy, and its fsyncs, before
    its commit returns: every so many transactions a user's request waits for the disk. Here one daemon
    thread per database file and process runs a PASSIVE checkpoint (it never blocks readers or writers)
    a few times a second; a process's last connection still checkpoints on close, as SQLite always does."""

    _running: dict[str, Checkpointer] = {}
    _lock = threading.Lock()

    def __init__(self, path: str, inode: int | None):
        self.path = path
        self.inode = inode
        self.pid = os.getpid()
        self.thread = threading.Thread(target=self._loop, name=f"sqlite-checkpoint {path}", daemon=True)

    @classmethod
    def ensure(cls, path: str) -> None:
        with cls._lock:
            current = cls._running.get(path)
            inode = _inode(path)
            if current is None or not current.thread.is_alive() or current.pid != os.getpid() \
                    or current.inode != inode:  # a file deleted and made again at the same path is another
                current = cls._running[path] = cls(path, inode)
                current.thread.start()

    def _loop(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        statistics = Statistics()
        try:
            connection.execute("PRAGMA busy_timeout=1000")
            while self.inode is not None and _inode(self.path) == self.inode:  # scratch databases get deleted
                time.sleep(CHECKPOINT_EVERY_S)
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    statistics.keep(connection, time.monotonic())
                except sqlite3.Error as err:  # busy or locked: the next round catches up
                    log.debug("checkpoint or statistics of %s skipped: %s", self.path, err)
        finally:
            connection.close()
            with self._lock:
                if self._running.get(self.path) is self:
                    del self._running[self.path]


class Statistics:
    """Keeps SQLite's planner statistics (`sqlite_stat1`) in step with the data, from the checkpointer's thread.

    Without statistics SQLite guesses, and at 100,000 open tasks it guessed wrong for the group inbox (it read
    every task of the user's lane through the lane index and sorted them: 360 ms, against 0.5 ms walking the inbox
    index). SQLite 3.40's `PRAGMA optimize` never analyzes a database that has no statistics yet, so this runs a
    bounded `ANALYZE` (`analysis_limit`) once the file passes ANALYZE_FROM_PAGES and whenever it has doubled since.
    Each process checks once a minute; a process that finds statistics already there counts growth from then."""

    def __init__(self) -> None:
        self.pages_at_analysis: int | None = None
        self.next_check = 0.0

    def keep(self, connection: sqlite3.Connection, now: float) -> bool:
        """Analyze if due; True when it did."""
        if now < self.next_check:
            return False
        self.next_check = now + ANALYZE_CHECK_S
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        if self.pages_at_analysis is None:
            analyzed = connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()
            self.pages_at_analysis = pages if analyzed else 0
        if pages < ANALYZE_FROM_PAGES or pages < self.pages_at_analysis * ANALYZE_GROWTH:
            return False
        began = time.perf_counter()
        connection.execute(f"PRAGMA analysis_limit={ANALYZE_ROWS}")
        connection.execute("ANALYZE")
        self.pages_at_analysis = pages
        log.info("planner statistics refreshed at %d pages in %.0f ms", pages, (time.perf_counter() - began) * 1000)
        return True


def _inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def configure(sql_engine: SqlEngine) -> SqlEngine:
    """Tune a SQLAlchemy engine for our unit-of-work pattern; idempotent."""
    if getattr(sql_engine, "_clientflow_configured", False) or sql_engine.dialect.name not in ("sqlite", "postgresql"):
        return sql_engine
    sql_engine._clientflow_configured = True
    if sql_engine.dialect.name == "postgresql":
        event.listen(sql_engine, "do_connect", _postgresql_options)
        return sql_engine
    path = sql_engine.url.database
    on_disk = bool(path) and path != ":memory:" and not path.startswith("file:")

    @event.listens_for(sql_engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (so writes can BEGIN IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: durable against process crashes; fsyncs happen at checkpoints, not at commits.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if on_disk:
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_SAFETY_NET_PAGES}")
            Checkpointer.ensure(os.path.abspath(path))
        cursor.close()

    @event.listens_for(sql_engine, "begin")
    def _on_begin(connection):
        # A write takes SQLite's write lock at BEGIN, so two writers queue instead of failing mid-way.
        # Sent on the DBAPI connection: through SQLAlchemy it would cost as much as the transaction's work.
        sql = "BEGIN IMMEDIATE" if connection.get_execution_options().get(WRITE_OPTION) else "BEGIN"
        try:
            connection.connection.dbapi_connection.execute(sql)
        except sqlite3.Error as err:  # "database is locked" after busy_timeout: SQLAlchemy's class, as elsewhere
            raise DBAPIError.instance(sql, (), err, sqlite3.Error, dialect=connection.dialect) from err

    return sql_engine


def _postgresql_options(_dialect, _record, _cargs, cparams) -> None:
    """JIT compilation off for our connections, in the start-up packet (no round trip of its own).

    The server compiles any query the planner costs above `jit_above_cost`; an inbox page sorted on a column no
    index serves costs that much at 100,000 open tasks and spent 380 ms compiling for a 200 ms query. Our queries
    are short; an operator who wants JIT names `jit` in the URL's `options` and it is left as given."""
    options = cparams.get("options") or ""
    if "jit" not in options:
        cparams["options"] = f"{options} -c jit=off".strip()


def make_sql_engine(url: str, **kwargs) -> SqlEngine:
    return configure(create_engine(url, **kwargs))


def connection_of(db: Session | Connection) -> Connection:
    """The connection behind a Session, or the Connection itself."""
    return db.connection() if isinstance(db, Session) else db


def session_factories(sql_engine: SqlEngine) -> tuple[sessionmaker, sessionmaker]:
    """(write, read) session factories over one engine."""
    configure(sql_engine)
    write = sessionmaker(bind=sql_engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False)
    read = sessionmaker(bind=sql_engine, expire_on_commit=False)
    return write, read

