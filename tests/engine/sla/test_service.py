"""SLA clocks in the product: rows written with the state, business-time timers, pause, reopen, retarget.

Every test drives a real engine on the test database with the manual clock (times below are SAST, UTC+2).
"""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.errors import InvalidModel
from engine.sla.models import SlaClock, SlaEvent

SAST = ZoneInfo("Africa/Johannesburg")
BUNDLE = Path(__file__).resolve().parents[2] / "fixtures" / "sla_case"


@pytest.fixture
def app_config(app_config, clock):
    return {**app_config, "CLOCK": clock}


@pytest.fixture
def sla_engine(engine):
    engine.deploy(BUNDLE, key="sla_case")
    return engine


def at(clock, *args):
    clock.set(datetime(*args, tzinfo=SAST))


def clocks(engine, instance_id):
    with engine.read_session() as session:
        return {c.target: c for c in session.scalars(select(SlaClock).where(SlaClock.instance_id == instance_id))}


def events(engine, instance_id, target=None):
    with engine.read_session() as session:
        stmt = select(SlaEvent).where(SlaEvent.instance_id == instance_id).order_by(SlaEvent.id)
        return [e for e in session.scalars(stmt) if target is None or e.target == target]


def complete(engine, instance_id, element, data=None):
    task = next(t for t in engine.tasks(instance_id=instance_id) if t.element_id == element)
    engine.complete(task.id, data or {})


def local(value):
    return value.astimezone(SAST).replace(tzinfo=None)


def test_a_complaint_logged_friday_afternoon_is_due_monday_in_business_time(sla_engine, clock):
    at(clock, 2026, 12, 4, 15, 0)  # Friday 15:00 SAST
    case = sla_engine.start("sla_case", {"severity": "low"})
    rows = clocks(sla_engine, case.id)
    assert local(rows["acknowledge"].due_at) == datetime(2026, 12, 7, 14, 0)  # Monday 14:00
    assert local(rows["resolve"].due_at) == datetime(2026, 12, 11, 15, 0)  # five working days later
    timer = sla_engine.timers(case.id)[0]
    assert local(timer.due_at) == datetime(2026, 12, 7, 14, 0)  # the BPMN timer counts the same business time
    assert [e.kind for e in events(sla_engine, case.id)] == ["applied", "applied"]


def test_a_complaint_crossing_the_day_of_reconciliation(sla_engine, clock):
    at(clock, 2026, 12, 15, 15, 0)  # Tuesday 15:00; Wednesday 16 December is a public holiday
    case = sla_engine.start("sla_case", {"severity": "low"})
    assert local(clocks(sla_engine, case.id)["acknowledge"].due_at) == datetime(2026, 12, 17, 14, 0)
    assert local(sla_engine.timers(case.id)[0].due_at) == datetime(2026, 12, 17, 14, 0)


def test_a_complaint_across_womens_day_observed_on_monday(sla_engine, clock):
    at(clock, 2026, 8, 7, 15, 0)  # Friday; 9 August 2026 is a Sunday, so Monday 10 August is the holiday
    case = sla_engine.start("sla_case", {"severity": "low"})
    assert local(clocks(sla_engine, case.id)["acknowledge"].due_at) == datetime(2026, 8, 11, 14, 0)
    assert local(sla_engine.timers(case.id)[0].due_at) == datetime(2026, 8, 11, 14, 0)


def test_acknowledging_meets_the_target_with_the_business_minutes_used(sla_engine, clock):
    at(clock, 2026, 12, 4, 16, 0)  # Friday 16:00
    case = sla_engine.start("sla_case", {"severity": "low"})
    at(clock, 2026, 12, 7, 9, 30)  # Monday 09:30: 1 h Friday + 1.5 h Monday
    complete(sla_engine, case.id, "register")
    rows = clocks(sla_engine, case.id)
    assert rows["acknowledge"].state == "met" and rows["acknowledge"].due_at is None
    met = events(sla_engine, case.id, "acknowledge")[-1]
    assert (met.kind, met.used_minutes, met.over_minutes) == ("met", 150, 0)
    assert rows["resolve"].state == "running"


def test_pausing_on_waiting_on_client_moves_the_due_time_by_the_paused_business_time(sla_engine, clock):
    at(clock, 2026, 12, 7, 9, 0)  # Monday 09:00
    case = sla_engine.start("sla_case", {"severity": "low"})
    complete(sla_engine, case.id, "register")
    due_before = clocks(sla_engine, case.id)["resolve"].due_at
    assert local(due_before) == datetime(2026, 12, 14, 9, 0)
    at(clock, 2026, 12, 8, 10, 0)  # Tuesday 10:00: ask the client
    complete(sla_engine, case.id, "investigate", {"need_info": True})
    paused = clocks(sla_engine, case.id)["resolve"]
    assert (paused.state, paused.due_at, paused.paused_reason) == ("paused", None, "waiting on client")
    at(clock, 2026, 12, 10, 10, 0)  # Thursday 10:00: two working days later (16 December is a holiday: 3 days)
    complete(sla_engine, case.id, "client_replied")
    resumed = clocks(sla_engine, case.id)["resolve"]
    assert resumed.state == "running"
    assert local(resumed.due_at) == datetime(2026, 12, 17, 9, 0)  # 14 Dec + 2 working days, skipping 16 Dec
    kinds = [(e.kind, e.reason) for e in events(sla_engine, case.id, "resolve")]
    assert kinds[-2:] == [("paused", "waiting on client"), ("resumed", "waiting on client")]
    assert events(sla_engine, case.id, "resolve")[-1].detail["paused_minutes"] == 18 * 60


def test_reopening_continues_the_resolve_clock_with_the_time_already_used(sla_engine, clock):
    at(clock, 2026, 12, 7, 9, 0)
    case = sla_engine.start("sla_case", {"severity": "low"})
    complete(sla_engine, case.id, "register")
    at(clock, 2026, 12, 8, 9, 0)  # resolved after 9 business hours
    complete(sla_engine, case.id, "investigate", {"need_info": False})
    assert clocks(sla_engine, case.id)["resolve"].state == "met"
    at(clock, 2026, 12, 9, 9, 0)  # the client is not satisfied: reopened a day later
    complete(sla_engine, case.id, "follow_up", {"client_satisfied": False})
    reopened = clocks(sla_engine, case.id)["resolve"]
    assert reopened.state == "running"
    # 45 h target - 9 h used = 36 business hours from Wed 9 Dec 09:00: Tue 15 Dec 09:00.
    assert local(reopened.due_at) == datetime(2026, 12, 15, 9, 0)
    last = events(sla_engine, case.id, "resolve")[-1]
    assert (last.kind, last.reason, last.used_minutes) == ("resumed", "reopened", 9 * 60)


def test_a_priority_change_mid_case_recomputes_the_due_time_keeping_the_time_used(sla_engine, clock):
    at(clock, 2026, 12, 7, 9, 0)
    case = sla_engine.start("sla_case", {"severity": "low"})
    at(clock, 2026, 12, 7, 12, 0)  # 3 business hours later the complaint is found to be critical
    complete(sla_engine, case.id, "register", {"severity": "critical"})
    resolve = clocks(sla_engine, case.id)["resolve"]
    assert resolve.urgent is True
    assert local(resolve.due_at) == datetime(2026, 12, 8, 9, 0)  # P1D = 9 h, 3 already used: 6 h from 12:00
    recomputed = events(sla_engine, case.id, "resolve")[-1]
    assert recomputed.kind == "recomputed" and recomputed.detail["duration"] == "P1D"
    assert recomputed.detail["previous_duration"] == "P5D" and recomputed.used_minutes == 180


def test_a_breach_is_recorded_once_and_the_ladder_moves_to_the_next_level(sla_engine, clock):
    at(clock, 2026, 12, 7, 9, 0)
    case = sla_engine.start("sla_case", {"severity": "critical"})  # acknowledge within 1 business hour
    at(clock, 2026, 12, 7, 11, 30)
    complete(sla_engine, case.id, "register")
    ack = events(sla_engine, case.id, "acknowledge")
    assert [(e.kind, e.detail.get("final")) for e in ack] == \
        [("applied", None), ("breached", False), ("breached", True)]
    assert local(ack[1].at) == datetime(2026, 12, 7, 10, 0)  # the breach is dated at the due time
    assert ack[-1].over_minutes == 90
    at(clock, 2026, 12, 8, 13, 0)  # resolve (P1D = 9 h) was due Tue 09:00; supervisor's 4 h ran out at 13:00
    complete(sla_engine, case.id, "investigate", {"need_info": True})  # waiting on client: any save advances
    rows = clocks(sla_engine, case.id)
    assert rows["resolve"].breached and rows["resolve"].escalated and rows["resolve"].level == "manager"
    breaches = [e for e in events(sla_engine, case.id, "resolve") if e.kind == "breached"]
    assert len(breaches) == 1 and local(breaches[0].at) == datetime(2026, 12, 8, 9, 0)


def test_a_wrong_sla_file_refuses_the_deploy(engine, tmp_path):
    bundle = tmp_path / "bad"
    bundle.mkdir()
    for source in BUNDLE.iterdir():
        (bundle / source.name).write_text(source.read_text())
    sla = bundle / "sla_case.sla.json"
    sla.write_text(sla.read_text().replace('"PT1H"', '"P1M"'))
    with pytest.raises(InvalidModel, match=r"sla_case.sla.json.*targets.acknowledge.within.*years and months"):
        engine.deploy(bundle, key="sla_case")
    assert engine.processes() == []


def test_a_timer_on_an_unknown_calendar_refuses_the_deploy(engine, tmp_path):
    bundle = tmp_path / "bad"
    bundle.mkdir()
    for source in BUNDLE.iterdir():
        (bundle / source.name).write_text(source.read_text().replace('value="za-office"', 'value="mars-base"'))
    with pytest.raises(InvalidModel, match=r"ack_overdue.*unknown calendar 'mars-base'"):
        engine.deploy(bundle, key="sla_case")
