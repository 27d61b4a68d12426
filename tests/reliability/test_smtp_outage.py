"""Mail server down for the first tries, then up: every notification delivered exactly once; a refused recipient
is marked failed with the server's reason."""

import time

import pytest
from sqlalchemy import select

from engine.core.db.models import Notification
from tests.worker.fixtures import PATIENCE
from tests.worker.harness import REJECTED_PREFIX, REJECTION, wait_until

GOOD = [f"client{i}@example.com" for i in range(5)]
BAD = f"{REJECTED_PREFIX}example.com"


@pytest.fixture
def app_config(app_config, smtp_server):
    # Thirty quick retries: a row gives up only after half a minute of outage, so every row has had its first
    # (refused) try before any runs out of tries, however slowly a loaded machine gets through the first round.
    return {**app_config, "SMTP_URL": smtp_server.url, "MAIL_RETRY_INTERVALS": [1] * 30}


def rows(engine):
    with engine.read_session() as session:
        return {n.recipient: n for n in session.scalars(select(Notification))}


def test_outage_then_recovery_delivers_each_once_and_refusal_is_visible(models, start_worker, smtp_server):
    engine = models
    start_worker()
    for address in [*GOOD, BAD]:
        engine.start("notice", {"template": "status_update", "email": address, "name": "Client"})
    wait_until(lambda: all(n.attempts >= 1 and n.status == "pending" for n in rows(engine).values()), PATIENCE,
               what="first attempts to fail while the server is down")
    smtp_server.start()
    wait_until(lambda: all(n.status in ("sent", "failed") for n in rows(engine).values()), PATIENCE,
               what="every notification to be sent or failed")
    time.sleep(1.5)  # a duplicate attempt, if any, would have landed by now
    final = rows(engine)
    assert all(final[a].status == "sent" and final[a].attempts >= 2 for a in GOOD)
    received = [m["To"] for m in smtp_server.messages]
    assert sorted(received) == sorted(GOOD)  # each exactly once
    assert {m["Message-ID"] for m in smtp_server.messages} == {final[a].message_id for a in GOOD}
    assert final[BAD].status == "failed"
    assert final[BAD].last_error == REJECTION
    for address in GOOD:
        assert [e.kind for e in engine.events(final[address].instance_id)].count("notification_sent") == 1
