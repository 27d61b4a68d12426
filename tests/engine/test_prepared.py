"""`Prepared` statements give what SQLAlchemy would (types, errors, defaults) on both databases."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from engine.core.db.models import Event, ReferenceCounter
from engine.core.db.prepared import Prepared

EVENT = Event.__table__
COUNTER = ReferenceCounter.__table__
INSERT_EVENTS = Prepared(insert(EVENT), keys=["instance_id", "at", "actor", "kind", "element_id", "task_id", "detail"])
NEWEST_OF_KIND = Prepared(select(EVENT.c.id, EVENT.c.at, EVENT.c.detail).where(EVENT.c.kind == bindparam("kind"))
                          .order_by(EVENT.c.id.desc()).limit(2))
INSERT_COUNTER = Prepared(insert(COUNTER).values(scope=bindparam("scope"), value=bindparam("value")))


def _event(kind: str, at: datetime, **detail) -> dict:
    return {"instance_id": None, "at": at, "actor": "tester", "kind": kind, "element_id": None, "task_id": None,
            "detail": detail}


def test_types_round_trip_like_sqlalchemy(engine):
    at = datetime(2026, 11, 28, 12, 30, 15, 123456, tzinfo=UTC)
    with engine.write_connection() as conn:
        INSERT_EVENTS.execute_many(conn, [_event("prepared_test", at, n=1), _event("prepared_test", at + timedelta(
            hours=1), n=2, names=["a", "ü"])])
        INSERT_EVENTS.execute_many(conn, [])  # nothing to write is no statement at all
        rows = NEWEST_OF_KIND.all(conn, {"kind": "prepared_test"})  # the LIMIT is the statement's own parameter
        through_sqlalchemy = conn.execute(NEWEST_OF_KIND.statement, {"kind": "prepared_test"}).all()
    assert [tuple(r) for r in rows] == [tuple(r) for r in through_sqlalchemy]
    assert rows[0].at == at + timedelta(hours=1) and rows[0].at.tzinfo is not None
    assert rows[0].detail == {"n": 2, "names": ["a", "ü"]} and rows[1].detail == {"n": 1}


def test_one_or_none_and_scalar(engine):
    with engine.write_connection() as conn:
        assert NEWEST_OF_KIND.one_or_none(conn, {"kind": "no such kind"}) is None
        assert NEWEST_OF_KIND.scalar(conn, {"kind": "no such kind"}) is None
        INSERT_EVENTS.execute_many(conn, [_event("twice", datetime.now(UTC)), _event("twice", datetime.now(UTC))])
        with pytest.raises(LookupError, match="at most one row"):
            NEWEST_OF_KIND.one_or_none(conn, {"kind": "twice"})


def test_database_errors_are_sqlalchemys_and_roll_back(engine):
    with engine.write_connection() as conn:
        assert INSERT_COUNTER.execute(conn, {"scope": "prepared-test", "value": 1}) == 1
    with pytest.raises(IntegrityError), engine.write_connection() as conn:
        INSERT_COUNTER.execute(conn, {"scope": "prepared-test-2", "value": 1})
        INSERT_COUNTER.execute(conn, {"scope": "prepared-test", "value": 2})  # duplicate key
    with engine.sql_engine.connect() as conn:
        scopes = set(conn.scalars(select(COUNTER.c.scope).where(COUNTER.c.scope.like("prepared-test%"))))
    assert scopes == {"prepared-test"}  # the failed transaction left nothing behind
