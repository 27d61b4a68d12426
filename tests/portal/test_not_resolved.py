"""The client says "not resolved" from the status page: offered only while the case waits for the follow-up, only
to the browser that proved the case is theirs (reference and e-mail), and it reopens the case with the reason."""

import re

import pytest
from sqlalchemy import select

from engine.sla.models import SlaClock
from tests.portal.support import COMPLAINT, RESOLVED, address

REASON = "The refund has still not reached my account."
FORM = "It is not resolved: reopen my case"


def track(client, reference, email=COMPLAINT["client_email"], **kwargs):
    return client.post("/portal/track", data={"reference": reference, "email": email}, **kwargs)


def say_not_resolved(client, reference, reason=REASON, **kwargs):
    return client.post("/portal/track/not-resolved", data={"reference": reference, "reason": reason}, **kwargs)


def work(engine, reference, element_id, data, by="agent"):
    engine.live.clear()
    [task] = [t for t in engine.tasks(instance_id=engine.instance_by_reference(reference).id)
              if t.element_id == element_id]
    engine.complete(task.id, data, by=by)


@pytest.fixture
def resolved(engine, staff, log_complaint):
    """A complaint logged on the portal whose resolution the client has been told: it waits for the follow-up."""
    reference = log_complaint()
    work(engine, reference, "register", {"severity": "medium", "handler_email": "agent@example.com"})
    work(engine, reference, "investigate", RESOLVED)
    work(engine, reference, "review_decision", {"review_outcome": "approve"}, by="supervisor")
    return reference


def case_data(engine, reference):
    engine.live.clear()
    return engine.instance_detail(engine.instance_by_reference(reference).id).data


def open_elements(engine, reference):
    engine.live.clear()
    return [t.element_id for t in engine.tasks(instance_id=engine.instance_by_reference(reference).id)]


def test_the_status_page_offers_it_and_the_case_reopens_with_the_clients_reason(client, engine, resolved, text):
    page = text(track(client, resolved))
    assert "Not resolved?" in page and FORM in page
    response = say_not_resolved(client, resolved)
    assert response.status_code == 200
    page = text(response)
    assert "We have reopened your case" in page and FORM not in page
    data = case_data(engine, resolved)
    assert (data["reopen_count"], data["reopened_by"], data["reopen_reason"]) == (1, "client", REASON)
    assert open_elements(engine, resolved) == ["investigate"]
    with engine.read_session() as session:
        resolve = session.scalars(select(SlaClock).where(
            SlaClock.instance_id == engine.instance_by_reference(resolved).id, SlaClock.target == "resolve")).one()
    assert resolve.state == "running"  # reopened with the time already used (tests/processes: the exact due time)


def test_it_is_not_offered_before_the_resolution_nor_after_closing(client, engine, staff, log_complaint, text):
    reference = log_complaint()
    assert FORM not in text(track(client, reference))
    response = say_not_resolved(client, reference)
    assert response.status_code == 409 and "nothing was changed" in text(response)
    assert open_elements(engine, reference) == ["register"]
    work(engine, reference, "register", {"severity": "low", "handler_email": "agent@example.com"})
    work(engine, reference, "investigate", RESOLVED)
    work(engine, reference, "review_decision", {"review_outcome": "approve"}, by="supervisor")
    work(engine, reference, "follow_up", {"contacted_via": "phone", "client_satisfied": True})
    page = text(track(client, reference))
    assert "Closed" in page and FORM not in page
    assert say_not_resolved(client, reference).status_code == 409
    assert case_data(engine, reference)["reopen_count"] == 0


def test_only_the_browser_that_proved_the_case_is_theirs_may_reopen_it(app, client, engine, resolved, log_complaint):
    stranger = app.test_client()
    response = say_not_resolved(stranger, resolved, **address(7))
    assert response.status_code == 303 and "/portal/track" in response.headers["Location"]
    assert track(stranger, resolved, "someone@else.example", **address(7)).status_code == 404
    assert say_not_resolved(stranger, resolved, **address(7)).status_code == 303
    other = log_complaint(client_email="stranger@example.com")  # a case of their own does not open this one
    assert track(stranger, other, "stranger@example.com", **address(7)).status_code == 200
    assert say_not_resolved(stranger, resolved, **address(7)).status_code == 303
    assert case_data(engine, resolved)["reopen_count"] == 0
    assert open_elements(engine, resolved) == ["follow_up"]


@pytest.mark.parametrize(("reason", "message"), [
    ("", "Tell us what is still wrong"),
    ("No.", "between 10 and 2000 characters"),
    ("x" * 2001, "between 10 and 2000 characters"),
])
def test_a_missing_or_bad_reason_is_named_and_changes_nothing(client, engine, resolved, text, reason, message):
    track(client, resolved)
    version = engine.instance_by_reference(resolved).lock_version
    response = say_not_resolved(client, resolved, reason)
    assert response.status_code == 422
    page = text(response)
    assert message in page and "nothing was sent yet" in page and FORM in page
    assert engine.instance_by_reference(resolved).lock_version == version
    assert open_elements(engine, resolved) == ["follow_up"]


def test_the_form_carries_its_case_and_a_token(client, resolved):
    html = track(client, resolved).get_data(as_text=True)
    form = re.search(r'<form method="post" action="/portal/track/not-resolved".*?</form>', html, re.S).group(0)
    assert f'value="{resolved}"' in form and 'name="csrf_token"' in form
    assert 'name="reason"' in form and "required" in form
