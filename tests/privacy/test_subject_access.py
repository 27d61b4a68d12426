"""Subject access requests: a person is found across every process, and nobody else is."""

from __future__ import annotations

import json

import pytest

from engine import privacy
from engine.errors import InvalidInput

from .conftest import JANE


def _text(record) -> str:
    return json.dumps(record.as_dict(), default=str)


def test_email_finds_the_person_in_three_processes_and_nothing_of_another(engine, jane, piet):
    record = privacy.find_subject(engine, jane.email.upper())
    assert sorted(i.detail.instance.key for i in record.instances) == ["complaint", "feedback", "onboarding"]
    assert set(record.instance_ids) == set(jane.instances.values())
    text = _text(record)
    for value in jane.values:
        assert value in text
    for value in piet.values:
        assert value not in text
    complaint = next(i for i in record.instances if i.detail.instance.key == "complaint")
    assert complaint.matched == ("email",)
    assert complaint.privacy.purpose.startswith("Investigate and resolve")
    assert complaint.personal["id_number"] == [jane.id_number]
    assert {e.kind for e in complaint.detail.events} >= {"instance_started", "timer_fired", "task_completed"}
    assert sorted(n["template"] for n in record.notifications) == ["complaint_acknowledgement", "welcome_package"]
    assert all(n["recipient"] == jane.email for n in record.notifications)


def test_id_number_and_reference_find_the_same_person(engine, jane, piet):
    by_id = privacy.find_subject(engine, jane.id_number)
    assert sorted(by_id.instance_ids) == [jane.instances["complaint"], jane.instances["onboarding"]]
    reference = engine.instance(jane.instances["feedback"]).reference
    by_reference = privacy.find_subject(engine, reference.lower())
    # The reference leads to the person's e-mail address, and from there to their other cases.
    assert set(by_reference.instance_ids) == set(jane.instances.values())
    assert not set(by_reference.instance_ids) & set(piet.instances.values())


def test_phone_number_matches_whatever_the_spacing_in_the_form(engine, jane, piet):
    record = privacy.find_subject(engine, jane.phone)
    assert record.instance_ids == [jane.instances["complaint"]]


def test_text_that_is_not_a_personal_value_finds_nothing(engine, jane):
    assert privacy.find_subject(engine, "delivery").empty  # a category, not a person
    assert privacy.find_subject(engine, "nobody@example.org").empty
    assert privacy.find_subject(engine, "Jane").empty  # only whole values identify someone


def test_portal_submissions_and_open_cases_are_included(engine, run_person, make_user):
    make_user("portal")
    person = run_person(JANE, finish=False)
    started = engine.start("feedback", {"email": JANE["email"], "rating": 5}, by="portal")
    record = privacy.find_subject(engine, JANE["email"])
    assert set(record.instance_ids) == {*person.instances.values(), started.id}
    submitted = {i.detail.instance.id: i.as_dict()["portal_submission"] for i in record.instances}
    assert submitted[started.id] is True and submitted[person.instances["complaint"]] is False
    complaint = next(i for i in record.instances if i.detail.instance.id == person.instances["complaint"])
    assert [t.element_id for t in complaint.detail.tasks] == ["resolve"]


@pytest.mark.parametrize("term", ["", "  ab ", None, 42, "x" * 256, "bad\x00text"])
def test_a_bad_search_is_refused_without_repeating_it(engine, term):
    with pytest.raises(InvalidInput) as err:
        privacy.find_subject(engine, term)
    assert "e-mail address, ID number or case reference" in str(err.value)
    if isinstance(term, str) and term.strip():
        assert term.strip() not in str(err.value)
