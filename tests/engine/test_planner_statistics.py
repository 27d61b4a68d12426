"""SQLite's planner statistics follow the data (engine/core/db/database.Statistics); PostgreSQL runs without JIT."""

import os
import sqlite3

import pytest
from sqlalchemy import text

from engine.core.db import database
from engine.core.db.database import Statistics, make_sql_engine

ON_POSTGRESQL = os.environ.get("CLIENTFLOW_TEST_DATABASE", "sqlite") != "sqlite"


def grow(connection: sqlite3.Connection, rows: int) -> int:
    connection.executemany("INSERT INTO note (body) VALUES (?)", [("x" * 500,)] * rows)
    return connection.execute("PRAGMA page_count").fetchone()[0]


def analyzed(connection: sqlite3.Connection) -> bool:
    return connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone() is not None


@pytest.fixture
def small_thresholds(monkeypatch):
    monkeypatch.setattr(database, "ANALYZE_FROM_PAGES", 100)
    monkeypatch.setattr(database, "ANALYZE_CHECK_S", 60.0)


def test_statistics_come_once_the_data_is_big_enough_and_again_when_it_doubles(tmp_path, small_thresholds):
    connection = sqlite3.connect(tmp_path / "stats.db", isolation_level=None)
    connection.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")
    connection.execute("CREATE INDEX ix_note_body ON note (body)")
    statistics = Statistics()
    grow(connection, 20)
    assert statistics.keep(connection, now=0.0) is False and not analyzed(connection)  # too small to matter
    pages = grow(connection, 500)
    assert pages >= 100
    assert statistics.keep(connection, now=30.0) is False  # checked at most once a minute
    assert statistics.keep(connection, now=61.0) is True and analyzed(connection)
    assert statistics.keep(connection, now=200.0) is False  # nothing grew
    while grow(connection, 100) < 2 * pages:
        pass
    assert statistics.keep(connection, now=300.0) is True
    assert connection.execute("SELECT stat FROM sqlite_stat1 WHERE idx = 'ix_note_body'").fetchone()


def test_a_process_that_finds_statistics_counts_growth_from_then(tmp_path, small_thresholds):
    connection = sqlite3.connect(tmp_path / "stats.db", isolation_level=None)
    connection.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")
    grow(connection, 400)
    connection.execute("ANALYZE")
    assert Statistics().keep(connection, now=0.0) is False  # already analyzed: no second ANALYZE at start


def test_the_background_thread_analyzes_a_growing_database(tmp_path, monkeypatch):
    monkeypatch.setattr(database, "ANALYZE_FROM_PAGES", 50)
    monkeypatch.setattr(database, "ANALYZE_CHECK_S", 0.0)
    path = tmp_path / "growing.db"
    sql = make_sql_engine(f"sqlite:///{path}")
    try:
        with sql.begin() as conn:
            conn.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
            conn.execute(text("INSERT INTO note (body) VALUES (:body)"), [{"body": "x" * 500}] * 500)
        reader = sqlite3.connect(path)
        deadline = database.time.monotonic() + 60  # generous: the thread wakes every quarter second
        while not analyzed(reader) and database.time.monotonic() < deadline:
            database.time.sleep(0.05)
        assert analyzed(reader)
    finally:
        sql.dispose()


@pytest.mark.skipif(not ON_POSTGRESQL, reason="a PostgreSQL setting")
def test_postgresql_connections_run_without_jit_unless_the_url_asks(database_url):
    plain = make_sql_engine(database_url)
    asked = make_sql_engine(database_url + ("&" if "?" in database_url else "?") + "options=-c%20jit%3Don")
    try:
        with plain.connect() as conn:
            assert conn.execute(text("SHOW jit")).scalar() == "off"
        with asked.connect() as conn:
            assert conn.execute(text("SHOW jit")).scalar() == "on"
    finally:
        plain.dispose()
        asked.dispose()
