"""Helpers of the portal tests (plain functions and constants), also used by the browser tests."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from webapp.web.portal.forms import DEFAULT_INTAKES

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
PUBLIC_URL = "http://portal.test"
COMPLAINT = {"description": "The concentrate delivery was 12 days late.", "remedy_sought": "Refund the transport fee.",
             "category": "delivery", "client_name": "Thandi Mokoena", "client_email": "thandi@example.com"}
RESOLVED = {"findings": "The carrier lost the load sheet at the weighbridge.",
            "resolution": "We refunded the transport fee and changed carrier for your route."}


def portal_config(app_config: dict, clock) -> dict:
    """The portal tests' app settings: the clock, no RQ scheduling, a public URL, the inquiry intake too."""
    inquiry = {"key": "inquiry", "title": "Ask a question", "email_required": True}
    return {**app_config, "CLOCK": clock, "SCHEDULE_JOBS": False, "PUBLIC_URL": PUBLIC_URL,
            "PORTAL_INTAKES": {**DEFAULT_INTAKES, "inquiry": inquiry}}


def deploy_models(engine) -> None:
    """Every shipped process, and the inquiry model (a case that asks the client for more information)."""
    engine.deploy_each(ROOT / "processes", by="process-owner")
    engine.deploy(FIXTURES / "inquiry", by="process-owner")


def address(n: int) -> dict:
    """Test-client keyword arguments for a request from another client address."""
    return {"environ_base": {"REMOTE_ADDR": f"198.51.100.{n}"}}


def complete(engine, instance_id, element_id, data, by="agent"):
    engine.live.clear()
    [task] = [t for t in engine.tasks(instance_id=instance_id) if t.element_id == element_id]
    return engine.complete(task.id, data, by=by)


def link_path(app, make, *args) -> str:
    with app.app_context():
        url = make(*args)
    assert url.startswith(PUBLIC_URL + "/portal/")
    return urlsplit(url).path


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


def mail_text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()
