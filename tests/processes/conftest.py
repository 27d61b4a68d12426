"""Fixtures for the shipped processes: all of processes/ deployed, a manual clock, one user per role."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine import ManualClock
from tests.processes.flow import PROCESSES


@pytest.fixture
def clock():
    # Starts at the real time: SpiffWorkflow re-checks waiting timers against the real clock whenever a task
    # completes, so an engine clock behind it would make every timer look overdue.
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def app_config(app_config, clock):
    """The shared app config, with the engine on a clock the test moves."""
    return {**app_config, "CLOCK": clock}


@pytest.fixture
def shipped(engine):
    """Every shipped process, deployed the way `clientflow deploy --each processes` does."""
    return {r.key: r for r in engine.deploy_each(PROCESSES, by="process-owner")}


@pytest.fixture
def staff(make_user):
    make_user("agent", "Customer Care Agent", email="agent@example.com")
    make_user("agent2", "Customer Care Agent")
    make_user("supervisor", "Supervisor")
    make_user("supervisor2", "Supervisor")
    make_user("manager", "Manager")
    make_user("rm", "Relationship Manager")
    make_user("officer", "Onboarding Officer")
    make_user("officer2", "Onboarding Officer")
    make_user("compliance", "Compliance Officer")
    make_user("dual", "Onboarding Officer", "Compliance Officer")
    make_user("compliance2", "Compliance Officer")
    make_user("boss", "Admin")
    make_user("itadmin", "IT/Portal Admin")
