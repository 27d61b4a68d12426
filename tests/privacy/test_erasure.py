"""Erasure: a second person approves; the person's values leave every table; the facts reports use stay."""

from __future__ import annotations

import pytest

from engine import privacy
from engine.errors import ConcurrentUpdate, InvalidInput, NotAllowed

from .conftest import JANE
from .scan import figures, traces


def _request(engine, person, by="officer", reason="Client asked for erasure by letter, ticket 4411"):
    return privacy.request_erasure(engine, list(person.instances.values()), reason, by=by)


def test_erasure_leaves_no_trace_of_the_person_and_reports_unchanged(engine, jane, piet, clock):
    today = clock.now().date()
    before = figures(engine, today)
    assert traces(engine, jane.values)  # the scan does see the values while they are there
    # Free text that repeats the person's values is cleaned too (an access reason, the request's own reason).
    privacy.log_access(engine, engine.user("officer"), "web", "export", subjects=[jane.instances["complaint"]],
                       why=f"SAR for {jane.name}, {jane.email}")
    request = _request(engine, jane, reason=f"Erasure asked for by {jane.name} on 2 March")
    done = privacy.approve_erasure(engine, request.id, by="officer2")
    assert done.status == "done" and done.decided_by == "officer2"
    assert [i["fields"] for i in done.instances] == [5, 5, 2]
    assert traces(engine, jane.values) == []
    assert figures(engine, today) == before
    # The other person is untouched.
    assert len({t[2] for t in traces(engine, piet.values)}) == len(piet.values)
    detail = engine.instance_detail(jane.instances["complaint"])
    assert detail.instance.label == privacy.TOMBSTONE
    assert detail.data["email"] == privacy.TOMBSTONE and detail.data["category"] == "delivery"
    assert detail.data["outcome"] == "upheld" and detail.data["greeting"] == f"Dear {privacy.TOMBSTONE}"
    assert detail.instance.status == "completed"
    assert [e.detail for e in detail.events if e.kind == privacy.ERASED_EVENT] == [
        {"basis": "request", "request_id": request.id, "fields": 5}]


def test_erasure_rewrites_state_under_the_optimistic_lock(engine, jane):
    instance_id = jane.instances["feedback"]
    version = engine.instance(instance_id).lock_version
    privacy.approve_erasure(engine, _request(engine, jane).id, by="officer2")
    assert engine.instance(instance_id).lock_version == version + 1
    # A second erasure of the same instance changes nothing.
    assert privacy.erase_instance(engine, instance_id, "officer", basis="request") is None
    assert engine.instance(instance_id).lock_version == version + 1


def test_the_requester_cannot_approve_their_own_request(engine, jane):
    request = _request(engine, jane)
    with pytest.raises(NotAllowed, match="separation of duties"):
        privacy.approve_erasure(engine, request.id, by="officer")
    assert privacy.erasure_request(engine, request.id).status == "pending"
    assert {t[2] for t in traces(engine, jane.values)} == {v.casefold() for v in jane.values}


@pytest.mark.parametrize("user", ["agent", "reviewer", "onboarder", "super"])
def test_only_compliance_officers_request_or_approve(engine, jane, user):
    with pytest.raises(NotAllowed):
        _request(engine, jane, by=user)
    request = _request(engine, jane)
    with pytest.raises(NotAllowed):
        privacy.approve_erasure(engine, request.id, by=user)
    with pytest.raises(NotAllowed):
        privacy.reject_erasure(engine, request.id, by=user)
    assert privacy.erasure_request(engine, request.id).status == "pending"


def test_an_admin_may_approve_and_a_rejected_request_erases_nothing(engine, jane):
    first = _request(engine, jane)
    rejected = privacy.reject_erasure(engine, first.id, by="officer2", note="identity not proven")
    assert rejected.status == "rejected"
    with pytest.raises(InvalidInput, match="is rejected"):
        privacy.approve_erasure(engine, first.id, by="root")
    assert traces(engine, [jane.email])
    second = _request(engine, jane)
    assert privacy.approve_erasure(engine, second.id, by="root").status == "done"
    assert traces(engine, [jane.email]) == []


def test_open_cases_and_bad_requests_are_refused_and_change_nothing(engine, run_person, jane):
    open_person = run_person({**JANE, "email": "open.case@example.org"}, finish=False)
    with pytest.raises(InvalidInput, match="still open: CMP-"):
        privacy.request_erasure(engine, [jane.instances["complaint"], open_person.instances["complaint"]],
                                "The client asked for erasure", by="officer")
    with pytest.raises(InvalidInput, match="reason"):
        privacy.request_erasure(engine, [jane.instances["complaint"]], "short", by="officer")
    with pytest.raises(InvalidInput, match="no instance with id 9999"):
        privacy.request_erasure(engine, [9999], "The client asked for erasure", by="officer")
    with pytest.raises(InvalidInput, match="at least one"):
        privacy.request_erasure(engine, [], "The client asked for erasure", by="officer")
    assert privacy.erasure_requests(engine) == []
    with pytest.raises(InvalidInput, match="only completed or cancelled"):
        privacy.erase_instance(engine, open_person.instances["feedback"], "officer", basis="request")
    with pytest.raises(privacy.ErasureRequestNotFound):
        privacy.approve_erasure(engine, 12345, by="officer2")
    privacy.approve_erasure(engine, _request(engine, jane).id, by="officer2")
    with pytest.raises(InvalidInput, match="already anonymised"):
        _request(engine, jane)


def test_a_cancelled_case_is_erased_and_pending_mail_to_the_person_is_stopped(engine, run_person):
    person = run_person({**JANE, "email": "cancelled@example.org"}, finish=False)
    complaint = person.instances["complaint"]
    engine.cancel(complaint, by="super", reason=f"Duplicate of a call from {JANE['name']}")
    request = privacy.request_erasure(engine, [complaint], "Client asked for erasure", by="officer")
    privacy.approve_erasure(engine, request.id, by="officer2")
    record = privacy.find_subject(engine, "cancelled@example.org")
    assert complaint not in record.instance_ids
    from engine.core.db.models import Notification
    with engine.read_session() as session:
        mail = session.query(Notification).filter_by(instance_id=complaint).one()
    assert (mail.recipient, mail.status) == (privacy.TOMBSTONE, "cancelled")
    events = engine.events(complaint)
    assert [e.detail["reason"] for e in events if e.kind == "instance_cancelled"] == [
        f"Duplicate of a call from {privacy.TOMBSTONE}"]


def test_a_decision_race_has_one_winner(engine, jane):
    request = _request(engine, jane)
    privacy.reject_erasure(engine, request.id, by="officer2")
    from engine.privacy.requests import _move
    with pytest.raises(ConcurrentUpdate):
        _move(engine, request.id, "pending", status="approved")
