"""Tracking a case by reference number and e-mail: words and dates only, and one answer for every refusal."""

from datetime import UTC, timedelta

import pytest

from engine.sla import due, parse_duration, shipped_calendars
from tests.portal.support import COMPLAINT, RESOLVED, address

NOT_FOUND = "We could not find a case with that reference number and e-mail address."


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PORTAL_RATE_LIMITS": {"track": (6, 600), "reference": (4, 3600)}}


def track(client, reference, email=COMPLAINT["client_email"], **kwargs):
    return client.post("/portal/track", data={"reference": reference, "email": email}, **kwargs)


def business_due(clock, duration):
    """`duration` of za-office business time from now, in UTC as the page shows it."""
    return due(shipped_calendars()["za-office"], clock.now(), parse_duration(duration)).astimezone(UTC)


def complete(engine, reference, element_id, data, by="agent"):
    engine.live.clear()
    [task] = [t for t in engine.tasks(instance_id=engine.instance_by_reference(reference).id)
              if t.element_id == element_id]
    engine.complete(task.id, data, by=by)


def test_new_complaint_shows_its_stage_and_when_to_expect_the_next_step(client, clock, log_complaint, text):
    reference = log_complaint()
    response = track(client, reference)
    assert response.status_code == 200
    page = text(response)
    assert "Received: we are registering your complaint." in page
    expected = business_due(clock, "P1D")  # complaint deadlines count business time on za-office
    assert "Next: We will tell you within one business day how soon we aim to resolve it. " \
           f"Expected by {expected.day} {expected:%B %Y}, {expected:%H:%M} UTC." in page
    assert f"Received {clock.now().day} {clock.now():%B %Y}" in page


def test_status_follows_the_case_and_never_shows_internal_data(client, engine, clock, staff, log_complaint, text):
    reference = log_complaint()
    complete(engine, reference, "register", {"severity": "medium", "handler_email": "agent@example.com"})
    page = text(track(client, reference))
    assert "Being investigated." in page and "Next: We will tell you the outcome." in page
    due = business_due(clock, "P5D")
    assert f"Expected by {due.day} {due:%B %Y}" in page
    for internal in ("agent", "Register and acknowledge", "Investigate", "Customer Care", "medium", "care-supervisors",
                     COMPLAINT["description"], COMPLAINT["client_name"], COMPLAINT["client_email"], "severity"):
        assert internal not in page, internal


def test_closed_case_shows_closed_with_its_date(client, engine, clock, staff, log_complaint, text):
    reference = log_complaint()
    complete(engine, reference, "register", {"severity": "low", "handler_email": "agent@example.com"})
    complete(engine, reference, "investigate", RESOLVED)
    complete(engine, reference, "review_decision", {"review_outcome": "approve"}, by="supervisor")
    clock.advance(days=1)
    complete(engine, reference, "follow_up", {"contacted_via": "phone", "client_satisfied": True})
    page = text(track(client, reference))
    assert "Closed" in page and f"Closed {clock.now().day} {clock.now():%B %Y}" in page
    assert "Expected by" not in page


def test_model_words_its_stages_with_client_properties(client, engine, shipped, clock, text):
    started = client.post("/portal/inquiry/new", data={"question": "Why is my bill so high?",
                                                       "client_email": "sipho@example.com"})
    assert started.status_code == 303
    reference = engine.list_instances(key="inquiry")[0].reference
    page = text(track(client, reference, "sipho@example.com"))
    due = clock.now() + timedelta(days=2)
    assert "We are reading your inquiry." in page
    assert f"Next: We will tell you if we need anything from you. Expected by {due.day} {due:%B %Y}" in page
    assert "Assess inquiry (internal)" not in page


def test_email_is_matched_whatever_its_case_and_spacing(client, log_complaint):
    reference = log_complaint()
    assert track(client, reference.lower(), "  Thandi@Example.COM ").status_code == 200


def test_wrong_email_and_unknown_reference_get_the_same_answer(client, log_complaint, text):
    reference = log_complaint()
    wrong = track(client, reference, "someone.else@example.com")
    unknown = track(client, "CMP-2020-999999")
    assert wrong.status_code == unknown.status_code == 404
    assert NOT_FOUND in text(wrong)
    assert text(wrong).replace(reference, "REF") == text(unknown).replace("CMP-2020-999999", "REF")
    assert "Being" not in text(wrong) and "Received:" not in text(wrong)


@pytest.mark.parametrize("reference, email, message", [
    ("", "a@example.com", "Enter your reference number."),
    ("12345", "a@example.com", "A reference number looks like CMP-2026-000123."),
    ("CMP-2026-000001", "", "Enter your e-mail address."),
    ("CMP-2026-000001", "not-an-address", "Enter an e-mail address, like name@example.com."),
])
def test_both_fields_are_required_and_checked(client, shipped, text, reference, email, message):
    response = track(client, reference, email)
    assert response.status_code == 422
    assert message in text(response)


def test_one_address_guessing_references_is_stopped(client, clock, shipped, text):
    for n in range(6):
        assert track(client, f"CMP-2026-{n:06d}").status_code == 404
    response = track(client, "CMP-2026-000099")
    assert response.status_code == 429
    assert "Please wait a moment" in text(response) and "Nothing was changed" in text(response)
    assert 0 < int(response.headers["Retry-After"]) <= 600
    assert track(client, "CMP-2026-000100", **address(7)).status_code == 404  # another address is not held up
    clock.advance(seconds=601)
    assert track(client, "CMP-2026-000101").status_code == 404  # the next window starts afresh


def test_one_reference_tried_from_many_addresses_is_stopped(client, log_complaint, text):
    reference = log_complaint()
    for n in range(4):
        assert track(client, reference, f"guess{n}@example.com", **address(n)).status_code == 404
    response = track(client, reference, **address(50))
    assert response.status_code == 429  # even with the right e-mail, until the window passes
    assert "Please wait a moment" in text(response)


def test_a_case_waiting_at_an_element_without_client_words_gets_a_neutral_sentence(client, engine, waiting_inquiry,
                                                                                   text):
    engine.send_message("more_info", {"reference": waiting_inquiry.reference}, {"message": "Meter 0412-556."})
    page = text(track(client, waiting_inquiry.reference, "sipho@example.com"))
    assert "Our team is working on it." in page
    assert "Answer the inquiry" not in page
