"""Web app fixtures: staff with their roles, deployed test models, signed-in clients, API tokens."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.clock import ManualClock

WEB_FIXTURES = Path(__file__).parent / "fixtures"
PASSWORD = "password123"


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """Argon2 with its smallest cost: these tests sign in often, and the hashing cost is not what they test."""
    from argon2 import PasswordHasher

    from engine import users

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def clock():
    return ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def app_config(app_config, clock):
    return {**app_config, "CLOCK": clock}


@pytest.fixture
def staff(make_user):
    """Agents and reviewers (order model), onboarding and compliance officers (sign-off model), managers."""
    for name, *roles in (("alice", "Agent"), ("bob", "Reviewer", "Agent"), ("carol", "Reviewer"),
                         ("olivia", "Onboarding Officer"), ("oscar", "Onboarding Officer", "Compliance Officer"),
                         ("cora", "Compliance Officer"), ("sam", "Supervisor"), ("root", "Admin")):
        make_user(name, *roles, email=f"{name}@example.com")


@pytest.fixture
def order(engine, order_bundle):
    engine.deploy(order_bundle, by="root")
    return "order"


@pytest.fixture
def signoff(engine):
    engine.deploy(WEB_FIXTURES / "signoff", by="root")
    return "signoff"


@pytest.fixture
def signed_in(app, staff):
    """A test client signed in as the named user (one client per user, like separate browsers)."""

    def sign_in(username: str):
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302, response.text
        return client
    return sign_in


@pytest.fixture
def token_for(engine, staff):
    from engine.users import create_token

    def make(username: str) -> dict[str, str]:
        with engine.write_session.begin() as session:
            return {"Authorization": f"Bearer {create_token(session, username, 'test')}"}
    return make


@pytest.fixture
def open_task(engine):
    """The one open task of an instance (optionally: at that element)."""

    def find(instance_id: int, element_id: str | None = None):
        tasks = [t for t in engine.tasks(instance_id=instance_id) if element_id in (None, t.element_id)]
        assert len(tasks) == 1, tasks
        return tasks[0]
    return find


@pytest.fixture
def text():
    """A response's text with tags and runs of whitespace removed, for readable assertions."""

    def of(response) -> str:
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
    return of
