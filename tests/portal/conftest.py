"""Portal fixtures: the shipped processes plus a small inquiry model, a clock the test moves, staff, helpers."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from engine import ManualClock
from tests.portal.support import COMPLAINT, RESOLVED, complete, deploy_models, portal_config, send_pending
from tests.worker.fixtures import redis_db, run_redis  # noqa: F401 - fixtures are found by name


@pytest.fixture
def clock():
    # At the real time: SpiffWorkflow checks waiting timers against the real clock when tasks complete.
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def app_config(app_config, clock):
    return portal_config(app_config, clock)






@pytest.fixture
def shipped(engine):
    deploy_models(engine)
    return engine


@pytest.fixture
def staff(make_user):
    make_user("agent", "Customer Care Agent", password=None, email="agent@example.com")
    make_user("supervisor", "Supervisor", password=None)


@pytest.fixture
def text():
    """A response's text without tags and with single spaces (none before a full stop or comma)."""

    def of(response) -> str:
        flat = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
        return re.sub(r" ([.,])", r"\1", flat).strip()
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







@pytest.fixture
def closed_complaint(engine, shipped, staff):
    """A complaint logged by a client and closed: its survey invitation has gone out."""
    instance = engine.start("complaint_handling", {**COMPLAINT, "channel": "website"}, by="agent")
    complete(engine, instance.id, "register", {"severity": "low", "handler_email": "agent@example.com"})
    complete(engine, instance.id, "investigate", RESOLVED)
    complete(engine, instance.id, "review_decision", {"review_outcome": "approve"}, by="supervisor")
    complete(engine, instance.id, "follow_up", {"contacted_via": "phone", "client_satisfied": True})
    assert engine.instance(instance.id).status == "completed"
    return engine.instance(instance.id)


@pytest.fixture
def waiting_inquiry(engine, shipped, staff):
    """An inquiry whose agent asked the client for more information (it waits for message `more_info`)."""
    instance = engine.start("inquiry", {"question": "Why is my bill so high?", "client_email": "sipho@example.com"},
                            by="agent")
    complete(engine, instance.id, "assess", {})
    return engine.instance(instance.id)




@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) that keeps what it receives."""
    from tests.worker.harness import SmtpServer

    server = SmtpServer()
    server.start()
    yield server
    server.stop()




@pytest.fixture
def deliver(app, engine, redis_db):  # noqa: F811 - the fixture, by name
    return lambda: send_pending(app, engine, redis_db.client)


