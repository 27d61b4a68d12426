"""The status page promises a reply time from the case's own SLA clock ("We will reply by Friday 19 February,
15:00", Africa/Johannesburg), and the portal says when the za-office is closed (after hours, weekends, public
holidays). Times are SAST on a manual clock."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from engine import ManualClock
from tests.portal.support import COMPLAINT, complete

SAST = ZoneInfo("Africa/Johannesburg")


@pytest.fixture
def clock():
    return ManualClock(datetime(2027, 2, 5, 15, 0, tzinfo=SAST))  # Friday, office hours


def track(client, reference):
    return client.post("/portal/track", data={"reference": reference, "email": COMPLAINT["client_email"]})


def test_the_status_page_promises_the_clocks_due_time(client, engine, clock, staff, log_complaint, text):
    reference = log_complaint()
    instance_id = engine.instance_by_reference(reference).id
    # not assessed yet: first response on the low track, P10D of za-office business time from Friday 15:00
    page = text(track(client, reference))
    assert "We will reply by Friday 19 February, 15:00." in page
    assert "Our office is closed" not in page
    clock.advance(hours=1)
    complete(engine, instance_id, "register", {"severity": "high", "handler_email": "agent@example.com"})
    page = text(track(client, reference))
    assert "We will reply by Wednesday 10 February, 15:00." in page  # P3D, keeping the time used
    due = {c.target: c.due_at for c in engine.sla_panel(instance_id).clocks}["first_response"]
    assert due.astimezone(SAST) == datetime(2027, 2, 10, 15, 0, tzinfo=SAST)  # the clock's own figure
    engine.wait_on_client(instance_id, "Asked for the delivery note.", by="agent")
    page = text(track(client, reference))
    assert "We are waiting for information from you." in page and "We will reply by" not in page


def test_out_of_hours_and_holiday_notices(client, engine, clock, staff, log_complaint, text):
    clock.set(datetime(2027, 2, 5, 18, 30, tzinfo=SAST))  # Friday evening
    page = text(client.get("/portal/track"))
    assert "Our office is closed now. We open again on Monday 8 February, 08:00." in page
    reference = log_complaint()
    page = text(track(client, reference))
    assert "Our office is closed now." in page
    # P10D counted from Monday 08:00 ends at the close of business, never at the next opening
    assert "We will reply by Friday 19 February, 17:00." in page
    clock.set(datetime(2027, 3, 22, 10, 0, tzinfo=SAST))  # Human Rights Day (Sunday 21 March) moves to Monday
    page = text(client.get("/portal/track"))
    assert "Our office is closed today for Human Rights Day" in page
    assert "We open again on Tuesday 23 March, 08:00." in page
    clock.set(datetime(2027, 3, 23, 8, 0, tzinfo=SAST))
    assert "Our office is closed" not in text(client.get("/portal/track"))
