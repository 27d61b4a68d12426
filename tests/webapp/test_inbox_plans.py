"""The inbox's first page is read in order from an index, never by sorting every open task (both databases).

Seeded as the SLA benchmark seeds its 100,000 cases (webapp/cli/bench), at a size where each planner already
prefers a sort when no index serves the order, with its statistics refreshed as routine maintenance would."""

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from engine.casework.inbox import InboxQuery, statement
from engine.casework.supervision import Supervision
from engine.core.tasks import HUMAN
from engine.core.users import get_user
from webapp.cli.bench.sla import seed_clocks
from webapp.cli.bench.web_data import AGENT, seed

CASES = 3_000


@pytest.fixture
def seeded(app):
    engine = app.extensions["clientflow"]
    seed(app, CASES, lambda _: None)
    seed_clocks(app, lambda _: None)  # about half past due, one in ten paused; also refreshes the statistics
    return engine


def plan(engine, query: InboxQuery) -> str:
    with engine.sql_engine.connect() as conn:
        user = get_user(conn, AGENT)
        stmt = statement(query, user, Supervision().scope(user)).limit(51)
        sql = str(stmt.compile(conn, compile_kwargs={"literal_binds": True}))
        if conn.dialect.name == "sqlite":
            return "\n".join(row[3] for row in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
        return "\n".join(row[0] for row in conn.execute(text("EXPLAIN " + sql)))


def assert_read_in_index_order(found: str) -> None:
    assert "ix_human_task_unclaimed_order" in found, found
    assert "TEMP B-TREE FOR ORDER BY" not in found and "Sort" not in found, found


def test_the_group_inbox_walks_the_unclaimed_index(seeded):
    assert_read_in_index_order(plan(seeded, InboxQuery(view="group")))


def test_the_overdue_filter_walks_the_index_and_looks_each_case_up(seeded):
    found = plan(seeded, InboxQuery(view="group", sla="overdue", now=seeded.clock.now()))
    assert_read_in_index_order(found)
    if "SEARCH sla_clock" in found:  # SQLite: by the case, not by every running clock past due
        assert "ix_sla_clock_state_due" not in found, found


def test_the_pages_hold_what_the_plan_promises(seeded):
    """The fast plans return the right rows: soonest SLA due first; only past-due running clocks when filtered."""
    now = seeded.clock.now()
    with seeded.sql_engine.connect() as conn:
        expected = list(conn.scalars(select(HUMAN.c.id).where(HUMAN.c.claimed_by.is_(None))
                                     .order_by(HUMAN.c.sort_due, HUMAN.c.created_at, HUMAN.c.id).limit(51)))
    assert [t.id for t in seeded.inbox(AGENT, InboxQuery(view="group"), limit=51)] == expected
    overdue = seeded.inbox(AGENT, InboxQuery(view="group", sla="overdue", now=now), limit=CASES)
    badges = seeded.sla_badges([t.instance_id for t in overdue])
    assert len(overdue) > CASES // 3  # the seed starts clocks over two weeks: about half are past due
    assert all(badges[t.instance_id].over_minutes > 0 and badges[t.instance_id].paused_reason is None
               for t in overdue)
    assert seeded.inbox(AGENT, InboxQuery(view="group", sla="overdue", now=now - timedelta(days=30)), limit=10) == []
