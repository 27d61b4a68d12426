"""SQLite set-up: the write-ahead log is copied back into the database file by a background thread."""

import os
import threading
import time

from sqlalchemy import text

from engine.core.db.database import CHECKPOINT_EVERY_S, make_sql_engine


def _checkpointers(path) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"sqlite-checkpoint {path}"]


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_the_log_is_checkpointed_without_a_commit_paying_for_it(tmp_path):
    path = str(tmp_path / "checkpoints.db")
    sql = make_sql_engine(f"sqlite:///{path}")
    try:
        with sql.begin() as conn:
            conn.execute(text("CREATE TABLE note (body TEXT)"))
        size_before = os.path.getsize(path)
        with sql.begin() as conn:  # a few hundred pages: far below the in-commit threshold
            conn.execute(text("INSERT INTO note (body) VALUES (:body)"), [{"body": "x" * 3000}] * 300)
        assert len(_checkpointers(path)) == 1
        # Only the background thread copies the pages into the database file while the connection stays open.
        assert _wait_for(lambda: os.path.getsize(path) > size_before + 300 * 3000, 20 * CHECKPOINT_EVERY_S)
    finally:
        sql.dispose()
    os.remove(path)
    assert _wait_for(lambda: not _checkpointers(path), 20 * CHECKPOINT_EVERY_S), "the thread ends with its file"
