"""Web app fixtures: staff with their roles, deployed test models, signed-in clients, API tokens."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import bearer_headers, client_signed_in

WEB_FIXTURES = Path(__file__).parent / "fixtures"


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


@pytest.fixture
def signed_in(app, staff):
    """A test client signed in as the named user."""
    return lambda username: client_signed_in(app, username)


@pytest.fixture
def token_for(engine, staff):
    return lambda username: bearer_headers(engine, username)
