"""Portal fixtures: the shipped processes plus a small inquiry model, a clock the test moves, staff, helpers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from engine import ManualClock
from tests.worker.fixtures import redis_db, run_redis  # noqa: F401 - fixtures are found by name
from webapp.web.portal.forms import DEFAULT_INTAKES

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
PUBLIC_URL = "http://portal.test"
COMPLAINT = {"description": "The concentrate delivery was 12 days late.", "remedy_sought": "Refund the transport fee.",
             "category": "delivery", "client_name": "Thandi Mokoena", "client_email": "thandi@example.com"}
RESOLVED = {"findings": "The carrier lost the load sheet at the weighbridge.",
            "resolution": "We refunded the transport fee and changed carrier for your route."}


@pytest.fixture
def clock():
    # At the real time: SpiffWorkflow checks waiting timers against the real clock when tasks complete.
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def app_config(app_config, clock):
    return portal_config(app_config, clock)


def portal_config(app_config: dict, clock) -> dict:
    """The portal tests' app settings: the clock, no RQ scheduling, a public URL, the inquiry intake too."""
    inquiry = {"key": "inquiry", "title": "Ask a question", "email_required": True}
    return {**app_config, "CLOCK": clock, "SCHEDULE_JOBS": False, "PUBLIC_URL": PUBLIC_URL,
            "PORTAL_INTAKES": {**DEFAULT_INTAKES, "inquiry": inquiry}}


def deploy_models(engine) -> None:
    """Every shipped process, and the inquiry model (a case that asks the client for more information)."""
    engine.deploy_each(ROOT / "processes", by="process-owner")
    engine.deploy(FIXTURES / "inquiry", by="process-owner")


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


def address(n: int) -> dict:
    """Test-client keyword arguments for a request from another client address."""
    return {"environ_base": {"REMOTE_ADDR": f"198.51.100.{n}"}}



def complete(engine, instance_id, element_id, data, by="agent"):
    engine.live.clear()
    [task] = [t for t in engine.tasks(instance_id=instance_id) if t.element_id == element_id]
    return engine.complete(task.id, data, by=by)


@pytest.fixture
def closed_complaint(engine, shipped, staff):
    """A complaint logged by a client and closed: its survey invitation has gone out."""
    instance = engine.start("complaint_handling", {**COMPLAINT, "channel": "website"}, by="agent")
    complete(engine, instance.id, "register", {"severity": "low", "handler_email": "agent@example.com"})
    complete(engine, instance.id, "investigate", RESOLVED)
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


def link_path(app, make, *args) -> str:
    with app.app_context():
        url = make(*args)
    assert url.startswith(PUBLIC_URL + "/portal/")
    return urlsplit(url).path


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) that keeps what it receives."""
    from tests.worker.harness import SmtpServer

    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def send_pending(app, engine, redis) -> int:
    """Send every pending notification with the worker's job (real SMTP); returns how many were sent."""
    from sqlalchemy import select

    from engine.core.db.models import Notification
    from webapp.worker.entry import job_context
    from webapp.worker.jobs import send_notification

    with engine.read_session() as session:
        pending = list(session.scalars(select(Notification.id).where(Notification.status == "pending")))
    with job_context(app, redis):
        return sum(send_notification(n) == "sent" for n in pending)


@pytest.fixture
def deliver(app, engine, redis_db):  # noqa: F811 - the fixture, by name
    return lambda: send_pending(app, engine, redis_db.client)


def mail_text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()
