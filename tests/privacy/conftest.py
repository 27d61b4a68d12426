"""Privacy fixtures: a manual clock, staff in every role, the three privacy test models, people run through them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from tests.support import bearer_headers, client_signed_in

MODELS = Path(__file__).resolve().parent.parent / "fixtures" / "privacy"
STAFF = (("agent", "Agent"), ("reviewer", "Reviewer"), ("onboarder", "Onboarding Officer"),
         ("officer", "Compliance Officer"), ("officer2", "Compliance Officer"), ("super", "Supervisor"),
         ("root", "Admin"))


@dataclass
class Person:
    """One data subject's values, as entered on the forms of the three test processes."""

    name: str
    email: str
    phone: str
    id_number: str
    company: str
    director: str
    bank_account: str
    comment: str
    instances: dict[str, int] = field(default_factory=dict)

    @property
    def values(self) -> list[str]:
        return [self.name, self.email, self.phone, self.id_number, self.company, self.director,
                self.bank_account, self.comment]


JANE = dict(name="Jane Mokoena", email="jane.mokoena@example.org", phone="082 555 0101",
            id_number="8001015009087", company="Mokoena Logistics", director="Thabo Mokoena",
            bank_account="62011234567", comment="Driver Sipho was rude at the Rustenburg depot")
PIET = dict(name="Piet Botha", email="piet.botha@example.net", phone="083 444 0202",
            id_number="7502025008081", company="Botha Retail", director="Anna Botha",
            bank_account="62019876543", comment="Great service at the Kathu branch")


@pytest.fixture
def app_config(app_config, clock):
    return {**app_config, "CLOCK": clock}


@pytest.fixture
def staff(make_user):
    for name, *roles in STAFF:
        make_user(name, *roles, email=f"{name}@staff.example.com")


@pytest.fixture
def models(engine):
    for key in ("complaint", "onboarding", "feedback"):
        engine.deploy(MODELS / key, by="root")


def only_task(engine, instance_id: int):
    tasks = engine.tasks(instance_id=instance_id)
    assert len(tasks) == 1, tasks
    return tasks[0]


@pytest.fixture
def run_person(engine, models, staff, clock):
    """Take a person through a complaint (with an SLA warning), an onboarding and a feedback, to the end."""

    def run(values: dict, finish: bool = True) -> Person:
        person = Person(**values)
        complaint = engine.start("complaint", {
            "client_name": person.name, "email": person.email, "phone": person.phone,
            "id_number": person.id_number, "category": "delivery", "description": person.comment}, by="agent")
        onboarding = engine.start("onboarding", {
            "company_name": person.company, "contact_email": person.email, "id_number": person.id_number,
            "industry": "logistics"}, by="onboarder")
        feedback = engine.start("feedback", {"email": person.email, "rating": 2, "comment": person.comment},
                                by="reviewer")
        person.instances = {"complaint": complaint.id, "onboarding": onboarding.id, "feedback": feedback.id}
        if not finish:
            return person
        clock.advance(hours=2)
        assert engine.fire_due_timers() == 1
        engine.complete(only_task(engine, complaint.id).id, {"outcome": "upheld", "resolution": "Refund"}, by="agent")
        engine.complete(only_task(engine, onboarding.id).id, {"documents_complete": True, "client": {
            "director_name": person.director, "bank_account": person.bank_account, "employees": 40}},
            by="onboarder")
        engine.complete(only_task(engine, onboarding.id).id, {"decision": "approve", "risk": "low"}, by="officer")
        engine.complete(only_task(engine, feedback.id).id, {"theme": "quality", "follow_up": True}, by="reviewer")
        clock.advance(timedelta(minutes=30))
        return person
    return run


@pytest.fixture
def jane(run_person):
    return run_person(JANE)


@pytest.fixture
def piet(run_person):
    return run_person(PIET)


@pytest.fixture
def accesses(engine):
    """The access log, oldest first, as (actor, channel, action, instance_id, task_id, subjects, why)."""
    from engine.privacy import access_log

    def read(**filters):
        with engine.sql_engine.connect() as conn:
            rows = access_log.search(conn, limit=1000, **filters)
        return [(a.actor, a.channel, a.action, a.instance_id, a.task_id, a.subjects, a.why) for a in reversed(rows)]
    return read


@pytest.fixture
def signed_in(app, staff):
    """A test client signed in as the named user."""
    return lambda username: client_signed_in(app, username)


@pytest.fixture
def token_for(engine, staff):
    return lambda username: bearer_headers(engine, username)
