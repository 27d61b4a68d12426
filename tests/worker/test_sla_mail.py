"""Staff SLA mail (escalations, warnings) goes out only in business hours unless the case is urgent, and a
recipient's held or bursting mails go as one digest listing each case (engine/sla/mailing.py, the outbox's
digest claim). A manual clock in SAST and a real SMTP server (aiosmtpd)."""

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine import ManualClock
from engine.core.db.models import Notification
from webapp.worker.entry import job_context
from webapp.worker.jobs import send_notification
from webapp.worker.queues import connect

SAST = ZoneInfo("Africa/Johannesburg")
BUNDLE = Path(__file__).resolve().parents[1] / "fixtures" / "sla_mail"
SUPERVISOR, OTHER = "supervisor@example.com", "other.supervisor@example.com"


@pytest.fixture
def clock():
    return ManualClock(datetime(2027, 2, 6, 23, 0, tzinfo=SAST))  # Saturday night; no holiday near


@pytest.fixture
def app_config(app_config, smtp_server, clock):
    return {**app_config, "SMTP_URL": smtp_server.url, "SCHEDULE_JOBS": False, "CLOCK": clock}


@pytest.fixture
def cases(engine, smtp_server):
    engine.deploy(BUNDLE, key="sla_mail")
    smtp_server.start()

    def start(severity="low", supervisor=SUPERVISOR):
        instance = engine.start("sla_mail", {"severity": severity, "supervisor_email": supervisor,
                                             "client_email": "client@example.com"})
        return instance, rows(engine, instance.id)

    return start


def rows(engine, instance_id) -> dict[str, Notification]:
    with engine.read_session() as session:
        return {n.template: n for n in session.scalars(select(Notification).where(
            Notification.instance_id == instance_id))}


def send(app, notification_id):
    with job_context(app, connect(app.config["REDIS_URL"])):
        return send_notification(notification_id)


def local(moment):
    return moment.astimezone(SAST).replace(tzinfo=None)


def test_an_escalation_due_sunday_midnight_goes_out_monday_at_eight(app, engine, cases, clock, smtp_server):
    clock.set(datetime(2027, 2, 7, 0, 0, tzinfo=SAST))  # Sunday 00:00
    instance, mails = cases()
    escalation = mails["escalation"]
    assert local(escalation.next_try_at) == datetime(2027, 2, 8, 8, 0) and escalation.digest
    # The client's mail is not staff SLA mail: it goes at once.
    assert local(mails["status_update"].next_try_at) == datetime(2027, 2, 7, 0, 0)
    assert not mails["status_update"].digest
    assert send(app, mails["status_update"].id) == "sent"
    clock.set(datetime(2027, 2, 8, 7, 59, 57, tzinfo=SAST))
    assert send(app, escalation.id) == "skipped"
    assert [m["To"] for m in smtp_server.messages] == ["client@example.com"]
    clock.set(datetime(2027, 2, 8, 8, 0, tzinfo=SAST))
    assert send(app, escalation.id) == "sent"
    message = smtp_server.messages[-1]
    assert message["To"] == SUPERVISOR and message["Subject"] == f"Escalated to you: case {instance.reference}"
    held = [e for e in engine.events(instance.id) if e.kind == "notification_held"]
    assert [(e.detail["template"], e.detail["reason"]) for e in held] == [("escalation", "outside business hours")]
    assert rows(engine, instance.id)["escalation"].sent_at == clock.now()


def test_a_weekends_escalations_go_as_one_digest_per_recipient(app, engine, cases, clock, smtp_server):
    first, _ = cases()  # Saturday 23:00
    clock.advance(hours=5)
    second, _ = cases()
    other, _ = cases(supervisor=OTHER)
    clock.advance(hours=20)  # Sunday 04:00 -> Monday 00:00
    third, _ = cases()
    ids = [rows(engine, case.id)["escalation"].id for case in (first, second, third)]
    lone = rows(engine, other.id)["escalation"].id
    clock.set(datetime(2027, 2, 8, 8, 0, 1, tzinfo=SAST))
    assert send(app, ids[1]) == "sent"
    assert [send(app, i) for i in (ids[0], ids[2])] == ["skipped", "skipped"]  # already in the digest
    assert send(app, lone) == "sent"
    [digest] = [m for m in smtp_server.messages if m["To"] == SUPERVISOR]
    [single] = [m for m in smtp_server.messages if m["To"] == OTHER]
    assert digest["Subject"] == "3 service-level alerts on 3 cases"
    text = digest.get_body(("plain",)).get_content()
    for case in (first, second, third):
        assert f"Escalated to you: case {case.reference}: not resolved in time" in text
    assert other.reference not in text
    assert single["Subject"] == f"Escalated to you: case {other.reference}"  # alone: its own mail
    sent = [rows(engine, case.id)["escalation"] for case in (first, second, third)]
    assert {(r.status, r.message_id) for r in sent} == {("sent", digest["Message-ID"])}
    [event] = [e for e in engine.events(first.id) if e.kind == "notification_sent"]
    assert event.detail["digest_of"] == 3


def test_an_urgent_case_is_mailed_at_once_at_any_hour(app, engine, cases, clock, smtp_server):
    clock.set(datetime(2027, 2, 7, 0, 0, tzinfo=SAST))
    calm, _ = cases()
    urgent, mails = cases(severity="critical")
    escalation = mails["escalation"]
    assert escalation.next_try_at == clock.now() and not escalation.digest
    assert send(app, escalation.id) == "sent"
    [message] = smtp_server.messages
    assert message["Subject"] == f"Escalated to you: case {urgent.reference}"
    assert not [e for e in engine.events(urgent.id) if e.kind == "notification_held"]
    assert rows(engine, calm.id)["escalation"].status == "pending"  # the calm case's mail waits for Monday


def test_a_burst_in_business_hours_waits_for_its_digest_window(app, engine, cases, clock, smtp_server):
    clock.set(datetime(2027, 2, 8, 10, 0, tzinfo=SAST))  # Monday, open
    first, mails = cases()
    assert local(mails["escalation"].next_try_at) == datetime(2027, 2, 8, 10, 15)
    clock.advance(minutes=5)
    second, mails = cases()
    assert local(mails["escalation"].next_try_at) == datetime(2027, 2, 8, 10, 15)  # joins the open window
    assert send(app, mails["escalation"].id) == "skipped"
    clock.set(datetime(2027, 2, 8, 10, 15, tzinfo=SAST))
    assert send(app, mails["escalation"].id) == "sent"
    [digest] = smtp_server.messages
    assert digest["Subject"] == "2 service-level alerts on 2 cases"
    clock.advance(minutes=5)
    _, mails = cases()  # the window closed: a new one opens
    assert local(mails["escalation"].next_try_at) == datetime(2027, 2, 8, 10, 35)
    assert timedelta(0) < mails["escalation"].next_try_at - clock.now() <= timedelta(minutes=15)
    [event] = [e for e in engine.events(first.id) if e.kind == "notification_held"]
    assert event.detail["reason"] == "gathered into a digest"
