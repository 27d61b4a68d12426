"""The sweeper records SLA breaches that fell due while nobody saved the case (engine.tick_slas, once a minute)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine import ManualClock
from engine.sla.models import SlaClock
from tests.processes.flow import PROCESSES, Flow
from webapp.worker.entry import job_context
from webapp.worker.sweeper import Sweeper

SAST = ZoneInfo("Africa/Johannesburg")


@pytest.fixture
def clock():
    return ManualClock(datetime(2027, 2, 1, 9, 0, tzinfo=SAST))


@pytest.fixture
def app_config(app_config, clock):
    return {**app_config, "CLOCK": clock}


def resolve_clock(engine, instance_id):
    with engine.read_session() as session:
        return session.scalar(select(SlaClock).where(SlaClock.instance_id == instance_id,
                                                     SlaClock.target == "resolve"))


def test_the_sweeper_records_a_breach_once_a_minute(app, engine, redis_db, make_user, clock):
    make_user("agent", "Customer Care Agent")
    engine.deploy(PROCESSES / "complaint_handling.bpmn")
    flow = Flow(engine, engine.start("complaint_handling", {"channel": "hotline", "category": "billing",
                                                            "description": "Billed twice for May."}).id)
    flow.complete("register", {"severity": "high", "client_name": "Sipho"}, by="agent")
    clock.set(datetime(2027, 2, 4, 9, 30, tzinfo=SAST))  # half an hour past three business days
    with job_context(app, redis_db.client, name="test") as context:
        sweeper = Sweeper(context)
        sweeper.sweep_once(take_turn=False)
        row = resolve_clock(engine, flow.id)
        assert (row.breached, row.level, row.escalated) == (True, "supervisor", True)
        assert flow.task("investigate")  # the tick moved no work: the model's own timer does that
        clock.set(datetime(2027, 2, 5, 9, 30, tzinfo=SAST))  # the supervisor's deadline has lapsed too
        sweeper.sweep_once(take_turn=False)  # within the same minute of real time: no second tick
        assert resolve_clock(engine, flow.id).level == "supervisor"
        sweeper._next_sla_tick = 0.0  # a minute later
        sweeper.sweep_once(take_turn=False)
        assert resolve_clock(engine, flow.id).level == "manager"
