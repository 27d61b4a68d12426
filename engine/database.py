"""Database engine set-up: SQLite pragmas and write transactions that take the lock up front."""

from __future__ import annotations

import sqlite3

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

WRITE_OPTION = "clientflow_write"


def configure(sql_engine: SqlEngine) -> SqlEngine:
    """Tune a SQLAlchemy engine for our unit-of-work pattern; idempotent."""
    if sql_engine.dialect.name != "sqlite" or getattr(sql_engine, "_clientflow_configured", False):
        return sql_engine
    sql_engine._clientflow_configured = True

    @event.listens_for(sql_engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (so writes can BEGIN IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: durable against process crashes; one fsync per checkpoint, not per commit.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
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
