"""Report fixtures: rows written straight into the tables, and a small dataset whose answers are worked out by hand."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert

from engine.core.db.models import Event, HumanTask, InstanceFact, ProcessDefinition, ProcessInstance, Timer
from engine.reports import Filters

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)   # a Monday
NOW = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
RANGE = Filters(date(2026, 3, 2), date(2026, 3, 15))

_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d_{key}" targetNamespace="x">
  <bpmn:process id="{key}" isExecutable="true">{elements}</bpmn:process>
</bpmn:definitions>"""


def at(days: float = 0, hours: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours)


@dataclass
class Rows:
    """Writes report rows directly (no engine run): definitions, instances, events, timers, facts, open tasks."""

    sql: object
    _definitions: dict

    def _insert(self, stmt):
        """Run one INSERT in its own transaction; the new row's id when the statement returns one."""
        with self.sql.begin() as conn:
            result = conn.execute(stmt)
            return result.scalar() if result.returns_rows else None

    def definition(self, key: str, element_ids: tuple[str, ...] = ()) -> int:
        if key not in self._definitions:
            elements = "".join(f'<bpmn:task id="{e}" />' for e in element_ids)
            files = {f"{key}.bpmn": _BPMN.format(key=key, elements=elements)}
            self._definitions[key] = self._insert(insert(ProcessDefinition).values(
                key=key, version=1, name=key, process_id=key, files=files, deployed_at=T0,
                checksum=hashlib.sha256(repr(files).encode()).hexdigest()).returning(ProcessDefinition.id))
        return self._definitions[key]

    def instance(self, key: str, started: datetime, ended: datetime | None = None, reference: str | None = None,
                 **facts) -> int:
        status = "completed" if ended else "running"
        instance_id = self._insert(insert(ProcessInstance).values(
            definition_id=self.definition(key), process_key=key, version=1, status=status, reference=reference,
            started_at=started, updated_at=ended or started, ended_at=ended, state="{}", serializer_version="1",
            lock_version=1).returning(ProcessInstance.id))
        for name, value in facts.items():
            self.fact(instance_id, name, value, started)
        return instance_id

    def fact(self, instance_id: int, name: str, value, set_at: datetime) -> None:
        number = float(value) if isinstance(value, int | float) else None
        self._insert(insert(InstanceFact).values(instance_id=instance_id, name=name, value=str(value),
                                                      number=number, set_at=set_at))

    def event(self, instance_id: int, kind: str, element_id: str, when: datetime, **detail) -> None:
        self._insert(insert(Event).values(instance_id=instance_id, kind=kind, element_id=element_id, at=when,
                                               detail=detail))

    def timer(self, instance_id: int, element_id: str, due: datetime, fired: datetime | None = None,
              cancelled: datetime | None = None) -> None:
        self._insert(insert(Timer).values(
            instance_id=instance_id, task_id=f"t-{instance_id}-{element_id}", element_id=element_id, kind="duration",
            due_at=due, created_at=T0, fired_at=fired, cancelled_at=cancelled))

    def task(self, instance_id: int, element_id: str, lane: str, created: datetime, due: datetime | None = None,
             claimed_by: str | None = None, process_key: str = "complaint_handling") -> None:
        self._insert(insert(HumanTask).values(
            id=f"{instance_id:08d}-0000-4000-8000-{abs(hash(element_id)) % 10**12:012d}", instance_id=instance_id,
            process_key=process_key, element_id=element_id, name=element_id, lane=lane, created_at=created, due_at=due,
            claimed_by=claimed_by))

    def clock(self, instance_id: int, target: str, duration: str, started: datetime,
              stopped: datetime | None = None) -> None:
        """An SLA clock row on the 24x7 calendar (engine/sla), stopped (met or breached) when `stopped` is given."""
        from engine.sla import Target, parse_duration, shipped_calendars, start
        from engine.sla.models import SlaClock

        clock, _ = start(Target(target, parse_duration(duration), shipped_calendars()["24x7"]), started)
        if stopped is not None:
            clock, _ = clock.stop(stopped)
        self._insert(insert(SlaClock).values(instance_id=instance_id, target=target, state=clock.state,
                                             due_at=clock.due, clock=clock.to_dict(), updated_at=stopped or started))


@pytest.fixture
def rows(engine):
    return Rows(engine.sql_engine, {})


@pytest.fixture
def dataset(engine):
    """Four complaints, three onboardings, three survey answers (see test_queries.py for the sums)."""
    r = Rows(engine.sql_engine, {})
    c1 = r.instance("complaint_handling", at(0), at(2), "CMP-1", category="billing", severity="high")
    r.event(c1, "script_ran", "send_acknowledgement", at(0, 2))
    r.event(c1, "script_ran", "inform_resolution", at(1))
    r.timer(c1, "sla_breached", at(3), cancelled=at(1))
    c2 = r.instance("complaint_handling", at(1), at(5), "CMP-2", category="delivery", severity="high")
    r.event(c2, "script_ran", "send_acknowledgement", at(1, 4))
    r.event(c2, "script_ran", "inform_resolution", at(2))
    r.event(c2, "script_ran", "reopen", at(3))
    r.event(c2, "script_ran", "inform_resolution", at(4))
    r.timer(c2, "sla_warning", at(1, 12), fired=at(1, 12))
    c3 = r.instance("complaint_handling", at(2), at(8, 1), "CMP-3", category="delivery", severity="low")
    r.timer(c3, "acknowledgement_overdue", at(3), fired=at(3))
    r.event(c3, "script_ran", "escalate_acknowledgement", at(3))
    r.event(c3, "task_completed", "register", at(3, 6))        # not a milestone element
    r.event(c3, "script_ran", "send_acknowledgement", at(3, 6))
    r.event(c3, "script_ran", "inform_resolution", at(8))
    c4 = r.instance("complaint_handling", at(8), None, "CMP-4", category="billing")
    r.event(c4, "script_ran", "send_acknowledgement", at(8, 1))
    r.timer(c4, "sla_breached", at(10), fired=at(10))
    r.event(c4, "script_ran", "escalate_to_supervisor", at(10))
    r.event(c4, "script_ran", "escalate_to_manager", at(11))
    r.task(c4, "supervisor_resolve", "Supervisor", at(10), due=at(11))
    r.clock(c4, "resolve", "P5D", at(8))                       # running, a day over at NOW (sla_targets)
    r.clock(c3, "resolve", "P5D", at(2), stopped=at(8))         # stopped a day late
    c5 = r.instance("complaint_handling", at(-10), at(0, 1), "CMP-5", category="billing", severity="high")
    r.event(c5, "script_ran", "send_acknowledgement", at(-10, 5))
    o1 = r.instance("client_onboarding", at(0), None, "ONB-1")
    r.event(o1, "task_completed", "compliance_check", at(2), waited_ms=10 * 3600_000)
    r.event(o1, "task_completed", "compliance_check", at(4), waited_ms=4 * 3600_000)
    r.event(o1, "task_completed", "activate_service", at(7))
    o2 = r.instance("client_onboarding", at(1), None, "ONB-2")
    r.event(o2, "task_completed", "compliance_check", at(2), waited_ms=6 * 3600_000)
    o3 = r.instance("client_onboarding", at(3), None, "ONB-3")
    r.task(o3, "compliance_check", "Compliance Officer", at(4), claimed_by="cora", process_key="client_onboarding")
    f1 = r.instance("feedback", at(3), at(3), "FBK-1", about_reference="CMP-1")
    r.fact(f1, "rating", 4, at(3, 1))
    f2 = r.instance("feedback", at(9), at(9), "FBK-2", about_reference="CMP-3")
    r.fact(f2, "rating", 2, at(9))
    f3 = r.instance("feedback", at(10), at(10), "FBK-3")
    r.fact(f3, "rating", 5, at(10))
    return {"c1": c1, "c2": c2, "c3": c3, "c4": c4, "c5": c5, "o1": o1, "o2": o2, "o3": o3}


@pytest.fixture
def clock():
    from engine.clock import ManualClock

    return ManualClock(T0)


@pytest.fixture
def app_config(app_config, clock):
    return {**app_config, "CLOCK": clock}


@pytest.fixture
def signed_in(app, make_user):
    """A test client signed in as a new user with these roles."""

    def sign_in(username: str, *roles: str):
        make_user(username, *roles)
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": "tidal-lantern-orchard-42"})
        assert response.status_code == 302, response.text
        return client
    return sign_in
