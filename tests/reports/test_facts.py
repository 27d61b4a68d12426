"""Reportable facts and task waits, written by the engine itself while the shipped complaint model runs."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.core.db.models import Event, InstanceFact
from engine.core.facts import REPORTABLE_KEYS, fact_value, facts_of

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
COMPLAINT = {"client_name": "Ann Lee", "client_email": "ann@example.com", "channel": "email", "category": "billing",
             "description": "I was billed twice for one order."}


@pytest.fixture
def complaints(engine, make_user):
    make_user("agent", "Customer Care Agent")
    engine.deploy_each(PROCESSES, by="agent")
    return engine


def facts(engine, instance_id):
    with engine.sql_engine.connect() as conn:
        rows = conn.execute(select(InstanceFact.name, InstanceFact.value, InstanceFact.number, InstanceFact.set_at)
                            .where(InstanceFact.instance_id == instance_id)).all()
    return {name: (value, number, set_at) for name, value, number, set_at in rows}


def test_start_data_and_task_data_become_facts(complaints, clock):
    started = clock.now()
    case = complaints.start("complaint_handling", COMPLAINT, by="agent")
    assert facts(complaints, case.id) == {"category": ("billing", None, started), "channel": ("email", None, started)}
    register = complaints.tasks(instance_id=case.id)[0]
    clock.advance(hours=3)
    complaints.complete(register.id, {"severity": "high", "handler_email": "care@example.com"}, by="agent")
    assert facts(complaints, case.id)["severity"] == ("high", None, clock.now())
    assert facts(complaints, case.id)["category"][2] == started


def test_completed_tasks_record_how_long_they_were_open(complaints, clock):
    case = complaints.start("complaint_handling", COMPLAINT, by="agent")
    register = complaints.tasks(instance_id=case.id)[0]
    clock.advance(timedelta(hours=2, minutes=30))
    complaints.complete(register.id, {"severity": "low", "handler_email": "care@example.com"}, by="agent")
    with complaints.sql_engine.connect() as conn:
        detail = conn.execute(select(Event.detail).where(Event.kind == "task_completed",
                                                         Event.task_id == register.id)).scalar_one()
    assert detail["waited_ms"] == 9_000_000


def test_an_unchanged_fact_keeps_when_it_was_set_even_after_a_reload(complaints, clock):
    started = clock.now()
    case = complaints.start("complaint_handling", COMPLAINT, by="agent")
    register = complaints.tasks(instance_id=case.id)[0]
    complaints.live.clear()  # the next save restores the workflow from the database and rewrites every fact
    clock.advance(hours=1)
    complaints.claim(register.id, "agent")
    assert facts(complaints, case.id)["category"] == ("billing", None, started)


def test_fact_values():
    assert fact_value(4) == ("4", 4.0) and fact_value("4") == ("4", 4.0) and fact_value(True) == ("true", None)
    assert fact_value("  billing ") == ("billing", None) and fact_value("x" * 300)[0] == "x" * 255
    assert [fact_value(v) for v in (None, "", "  ", {"a": 1}, [1], float("nan"), "inf")] == [
        None, None, None, None, None, None, ("inf", None)]
    assert facts_of([{"category": "a", "other": 1}, {"category": "b", "rating": 5}]) == {
        "category": ("b", None), "rating": ("5", 5.0)}
    assert "category" in REPORTABLE_KEYS and "rating" in REPORTABLE_KEYS
