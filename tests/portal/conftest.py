"""Portal fixtures: the shipped processes plus a small inquiry model, a clock the test moves, staff, helpers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine import ManualClock

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
PUBLIC_URL = "http://portal.test"
COMPLAINT = {"description": "The concentrate delivery was 12 days late.", "remedy_sought": "Refund the transport fee.",
             "category": "delivery", "client_name": "Thandi Mokoena", "client_email": "thandi@example.com"}


@pytest.fixture
def clock():
    # At the real time: SpiffWorkflow checks waiting timers against the real clock when tasks complete.
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def app_config(app_config, clock):
    return {**app_config, "CLOCK": clock, "SCHEDULE_JOBS": False, "PUBLIC_URL": PUBLIC_URL}


@pytest.fixture
def shipped(engine):
    """Every shipped process, and the inquiry model (a case that asks the client for more information)."""
    engine.deploy_each(ROOT / "processes", by="process-owner")
    engine.deploy(FIXTURES / "inquiry", by="process-owner")
    return engine


@pytest.fixture
def staff(make_user):
    make_user("agent", "Customer Care Agent", password=None, email="agent@example.com")
    make_user("supervisor", "Supervisor", password=None)


@pytest.fixture
def text():
    """A response's text without tags and with single spaces."""

    def of(response) -> str:
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).strip()
    return of


@pytest.fixture
def log_complaint(client, shipped):
    """Log a complaint through the portal; returns its reference."""

    def log(**changes) -> str:
        response = client.post("/portal/complaint/new", data={**COMPLAINT, **changes})
        assert response.status_code == 303, response.get_data(as_text=True)
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        return re.search(r"data-reference>([A-Z]+-\d{4}-\d{6})<", page).group(1)
    return log


def address(n: int) -> dict:
    """Test-client keyword arguments for a request from another client address."""
    return {"environ_base": {"REMOTE_ADDR": f"198.51.100.{n}"}}
