"""Studio fixtures: a process owner and staff, the SLA model (a diagram with lanes, a timer and a gateway)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support import client_signed_in

STUDIO_FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def app_config(app_config, clock):
    return {**app_config, "CLOCK": clock}


@pytest.fixture
def people(make_user):
    for name, *roles in (("po", "Process Owner"), ("alice", "Agent"), ("sam", "Supervisor"), ("root", "Admin")):
        make_user(name, *roles, email=f"{name}@example.com")


@pytest.fixture
def sla_bundle(tmp_path):
    """A copy of the SLA model folder that a test may change."""
    target = tmp_path / "sla"
    shutil.copytree(STUDIO_FIXTURES / "sla", target)
    return target


@pytest.fixture
def sla(engine, sla_bundle, people):
    engine.deploy(sla_bundle, by="po")
    return "sla"


@pytest.fixture
def sign_in(app, people):
    """A test client signed in as the named user."""
    return lambda username: client_signed_in(app, username)
