"""kyc_review: the periodic KYC refresh the risk rating schedules, opened by onboarding and by each confirmed
review, recorded on the client record (issue 18)."""

from datetime import date, datetime

import pytest

from engine.errors import InvalidTaskData
from tests.processes.flow import Flow, advance_and_fire
from tests.processes.test_client_onboarding import ACTIVATION, APPROVE, PDF, REQUEST, through_documents
from tests.support import client_signed_in

TICKS = {"identity_verified": True, "registration_verified": True, "tax_status_verified": True,
         "bank_details_verified": True, "sanctions_screened": True}
KYC = {"pep_involved": False, "high_risk_jurisdiction": False, "industry_risk": "low"}
UPLOADS = {"id_document": "id", "registration_document": "registration", "tax_document": "tax",
           "bank_confirmation": "bank_confirmation"}
START = {"company_name": "Thaba Logistics (Pty) Ltd", "registration_number": "2015/654321/07",
         "contact_name": "Naledi Mokoena", "client_email": "naledi@thaba.example", "risk_rating": "high",
         "kyc_review_interval": "P3M"}


def upload(flow: Flow, expires: str = "2099-12-31", **kinds: str) -> dict[str, str]:
    return {field: flow.engine.documents.upload(flow.id, kind, f"{field}.pdf", PDF, expires, "compliance").reference
            for field, kind in (kinds or UPLOADS).items()}


def months_later(when: datetime, months: int) -> date:
    month = when.month - 1 + months
    return when.replace(year=when.year + month // 12, month=month % 12 + 1).date()


def review_started_by(flow: Flow) -> Flow:
    return Flow(flow.engine, flow.data[next(k for k in ("kyc_review_opened", "next_review_opened")
                                            if k in flow.data)]["started_instance_id"])


@pytest.fixture
def review(engine, shipped, staff):
    return Flow(engine, engine.start("kyc_review", START, by="compliance").id)


def test_activation_schedules_a_yearly_review_for_low_risk_and_a_confirmed_refresh_is_recorded(
        app, engine, shipped, staff, clock, text):
    onboarding = Flow(engine, engine.start("client_onboarding", REQUEST, by="rm").id)
    through_documents(onboarding)
    onboarding.complete("compliance_check", APPROVE, by="compliance")
    onboarding.complete("activate_service", ACTIVATION, by="officer")
    activated = clock.now()
    review = review_started_by(onboarding)
    assert engine.instance(review.id).reference.startswith("KYC-")
    client = engine.clients.of_case(onboarding.id)
    assert engine.clients.of_case(review.id).id == client.id
    assert (client.risk_rating, client.kyc_review_interval, client.kyc_outcome) == ("low", "P1Y", None)
    assert review.data["source_reference"] == onboarding.data["reference"]
    [due] = review.pending_timers().values()
    assert due.date() == months_later(activated, 12)
    assert review.elements() == []  # nothing to do until the review is due
    assert advance_and_fire(engine, clock, days=364) == 2  # only the two check-ins of the onboarding
    assert review.elements() == []
    assert advance_and_fire(engine, clock, days=1) == 1
    assert review.task("refresh_kyc").lane == "Compliance Officer"
    [(_, to, asked)] = review.mails("status_update")
    assert to == REQUEST["client_email"] and asked["stage"] == "kyc_review_due"
    assert "current copies" in asked["message"]
    review.complete("refresh_kyc", {**TICKS, **KYC, **upload(review), "kyc_outcome": "confirmed"}, by="compliance")
    client = engine.clients.get(client.id)
    assert (client.kyc_outcome, client.kyc_reviewed_on, client.risk_rating) == ("confirmed", clock.now().date(),
                                                                                  "low")
    assert review.status == "completed"
    following = review_started_by(review)
    assert engine.clients.of_case(following.id).id == client.id
    assert [d.date() for d in following.pending_timers().values()] == [months_later(clock.now(), 12)]
    page = text(client_signed_in(app, "compliance").get(f"/clients/{client.id}"))
    assert f"low risk, reviewed every year · last review {clock.now().date().isoformat()}: confirmed" in page
    assert engine.instance(following.id).reference in page


def test_high_risk_is_reviewed_every_three_months_and_the_re_rating_sets_the_next_interval(review, engine, clock):
    started = clock.now()
    assert [d.date() for d in review.pending_timers().values()] == [months_later(started, 3)]
    clock.set(datetime.combine(months_later(started, 3), started.timetz()))
    engine.live.clear()
    assert engine.fire_due_timers() == 1
    review.complete("refresh_kyc", {**TICKS, **upload(review), "pep_involved": False,
                                    "high_risk_jurisdiction": False, "industry_risk": "medium",
                                    "kyc_outcome": "confirmed"}, by="compliance")
    client = engine.clients.of_case(review.id)
    assert (client.risk_rating, client.kyc_review_interval) == ("medium", "P6M")
    following = review_started_by(review)
    assert following.data["kyc_review_interval"] == "P6M"
    assert [d.date() for d in following.pending_timers().values()] == [months_later(clock.now(), 6)]


def test_confirming_needs_current_documents_and_every_check(review, engine, clock):
    advance_and_fire(engine, clock, days=93)
    yesterday = date.fromordinal(clock.now().date().toordinal() - 1).isoformat()
    documents = {**upload(review), **upload(review, expires=yesterday, tax_document="tax")}
    before = review.snapshot()
    with pytest.raises(InvalidTaskData) as refused:
        review.complete("refresh_kyc", {**TICKS, **KYC, **documents, "kyc_outcome": "confirmed"}, by="compliance")
    assert refused.value.errors == {"kyc_outcome": [
        f"Cannot confirmed: the tax clearance / compliance pin expired on {yesterday}. Ask the client for a current "
        "document (request more information) first."]}
    for missing in [*TICKS, *UPLOADS]:
        with pytest.raises(InvalidTaskData) as refused:
            review.complete("refresh_kyc", {**TICKS, **KYC, **upload(review), missing: None,
                                            "kyc_outcome": "confirmed"}, by="compliance")
        assert list(refused.value.errors) == [missing]
    assert review.snapshot() == before
    assert engine.clients.of_case(review.id).kyc_outcome is None


def test_ending_the_relationship_needs_a_reason_tells_the_client_and_schedules_nothing(review, engine, clock):
    advance_and_fire(engine, clock, days=93)
    with pytest.raises(InvalidTaskData) as refused:
        review.complete("refresh_kyc", {**KYC, "kyc_outcome": "relationship_ended"}, by="compliance")
    assert list(refused.value.errors) == ["kyc_notes"]
    review.complete("refresh_kyc", {**KYC, "pep_involved": True, "kyc_outcome": "relationship_ended",
                                    "kyc_notes": "Director is now a PEP and refused enhanced due diligence."},
                    by="compliance")
    client = engine.clients.of_case(review.id)
    assert (client.kyc_outcome, client.status, client.risk_rating) == ("relationship_ended", "inactive", "high")
    detail = review.detail()
    assert detail.instance.status == "completed" and "relationship_ended" in detail.completed_elements
    assert "next_review_opened" not in review.data
    assert review.mails("status_update")[-1][2]["stage"] == "relationship_ended"
