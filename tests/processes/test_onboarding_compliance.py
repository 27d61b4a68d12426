"""client_onboarding's compliance gate: every check, uploaded documents with expiry, the risk table's approval tier,
and separation of duties at listing, claim and completion (issue 18)."""

import hashlib

import pytest

from engine.errors import InvalidInput, InvalidTaskData, NotAllowed
from engine.privacy.erasure import erase_instance
from tests.processes.flow import Flow
from tests.processes.test_client_onboarding import (
    APPROVE,
    CHECKS,
    DOCUMENTS,
    PDF,
    REQUEST,
    RM,
    through_documents,
    upload,
)


@pytest.fixture
def onboarding(engine, shipped, staff):
    return Flow(engine, engine.start("client_onboarding", REQUEST, by="rm").id)


def offered(flow: Flow, username: str) -> list[str]:
    flow.fresh()
    return [t.element_id for t in flow.engine.tasks(user=username) if t.instance_id == flow.id]


def refusals(flow: Flow) -> list[tuple[str, str, str]]:
    return [(e.actor, e.element_id, e.detail["attempt"]) for e in flow.engine.events(flow.id)
            if e.kind == "task_refused"]


@pytest.mark.parametrize("check", CHECKS)
def test_approval_needs_every_check_ticked(onboarding, check):
    through_documents(onboarding)
    before = onboarding.snapshot()
    with pytest.raises(InvalidTaskData) as refused:
        onboarding.complete("compliance_check", {**APPROVE, check: False}, by="compliance")
    assert list(refused.value.errors) == [check]
    assert "required when decision is approve" in refused.value.errors[check][0]
    assert onboarding.snapshot() == before
    onboarding.complete("compliance_check", {check: False, "decision": "more_info", "reason": "Need more."},
                        by="compliance")  # asking for more information needs no ticks
    assert onboarding.elements() == ["collect_documents"]


def test_an_expired_document_blocks_approval_until_a_current_one_is_uploaded(onboarding, clock):
    yesterday = (clock.now().date().toordinal() - 1)
    expired = type(clock.now().date()).fromordinal(yesterday).isoformat()
    onboarding.complete("assign_relationship_manager", RM, by="rm")
    documents = {**upload(onboarding), **upload(onboarding, expires=expired, id_document="id")}
    onboarding.complete("collect_documents", {**DOCUMENTS, **documents}, by="officer")
    before = onboarding.snapshot()
    with pytest.raises(InvalidTaskData) as refused:
        onboarding.complete("compliance_check", APPROVE, by="compliance")
    assert refused.value.errors == {"decision": [
        f"Cannot approve: the identity document expired on {expired}. Ask the client for a current document "
        "(request more information) first."]}
    assert onboarding.snapshot() == before
    onboarding.complete("compliance_check", {"decision": "more_info", "reason": "Your ID has expired."},
                        by="compliance")
    onboarding.complete("collect_documents", upload(onboarding, id_document="id"), by="officer")
    onboarding.complete("compliance_check", APPROVE, by="compliance")
    assert onboarding.elements() == ["activate_service"]


def test_documents_live_outside_the_state_with_their_hash_and_are_checked(onboarding, engine):
    stored = engine.documents.upload(onboarding.id, "bank_confirmation", "../../letter.pdf", PDF, "2030-01-31",
                                     "officer")
    assert (stored.sha256, stored.size, stored.content_type) == (hashlib.sha256(PDF).hexdigest(), len(PDF),
                                                                 "application/pdf")
    assert stored.filename == ".._.._letter.pdf" or "/" not in stored.filename
    view, content = engine.documents.open(stored.id, by="compliance")
    assert content == PDF and view.expires_on.isoformat() == "2030-01-31"
    for kind, content, expires, message in [
        ("id", b"MZ\x90\x00 not a document", "2030-01-01", "PDF, PNG or JPEG"),
        ("id", PDF + b"0" * (5 * 1024 * 1024), "2030-01-01", "the limit is 5 MB"),
        ("id", PDF, None, "expiry date"),
        ("id", PDF, "31/01/2030", "not a date"),
        ("passport_photo", PDF, "2030-01-01", "unknown document kind"),
        ("tax", b"", "2030-01-01", "empty"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            engine.documents.upload(onboarding.id, kind, "x.pdf", content, expires, "officer")
    assert [d.id for d in engine.documents.of_instance(onboarding.id)] == [stored.id]
    other = engine.start("client_onboarding", REQUEST, by="rm")
    foreign = engine.documents.upload(other.id, "id", "id.pdf", PDF, "2030-01-01", "officer").reference
    onboarding.complete("assign_relationship_manager", RM, by="rm")
    with pytest.raises(InvalidTaskData) as refused:  # another case's document, or one of the wrong kind
        onboarding.complete("collect_documents", {**DOCUMENTS, **upload(onboarding), "id_document": foreign,
                                                  "tax_document": stored.reference}, by="officer")
    assert sorted(refused.value.errors) == ["id_document", "tax_document"]
    onboarding.complete("collect_documents", {**DOCUMENTS, **upload(onboarding)}, by="officer")
    assert all(str(onboarding.data[f]).startswith("doc-") for f in ("id_document", "bank_confirmation"))
    assert PDF.decode("latin-1") not in str(onboarding.detail().data)
    kinds = [e.detail.get("document_kind") for e in engine.events(onboarding.id) if e.kind == "document_uploaded"]
    assert "bank_confirmation" in kinds and all("filename" not in e.detail for e in engine.events(onboarding.id))


def test_erasing_the_case_deletes_its_documents(onboarding, engine):
    through_documents(onboarding)
    onboarding.complete("compliance_check", {"decision": "reject", "reason": "Sanctions hit."}, by="compliance")
    assert len(engine.documents.of_instance(onboarding.id)) == 5
    erase_instance(engine, onboarding.id, "compliance", basis="test")
    assert engine.documents.of_instance(onboarding.id) == []


def test_low_risk_needs_one_approval_and_a_yearly_review(onboarding):
    through_documents(onboarding)
    assert (onboarding.data["risk_rating"], onboarding.data["approval_tier"],
            onboarding.data["kyc_review_interval"]) == ("low", "single", "P1Y")
    onboarding.complete("compliance_check", APPROVE, by="compliance")
    assert onboarding.elements() == ["activate_service"]


@pytest.mark.parametrize(("answers", "rating", "review"), [
    ({"pep_involved": True}, "high", "P3M"),
    ({"high_risk_jurisdiction": True}, "high", "P3M"),
    ({"industry_risk": "high"}, "high", "P3M"),
    ({"industry_risk": "medium"}, "medium", "P6M"),
])
def test_risk_table_decides_rating_tier_and_review(onboarding, answers, rating, review):
    through_documents(onboarding, **answers)
    assert (onboarding.data["risk_rating"], onboarding.data["kyc_review_interval"]) == (rating, review)
    assert onboarding.data["approval_tier"] == ("dual" if rating == "high" else "single")


def test_high_risk_needs_a_second_different_approver(onboarding):
    through_documents(onboarding, pep_involved=True)
    onboarding.complete("compliance_check", APPROVE, by="compliance")
    assert onboarding.elements() == ["second_approval"]
    assert offered(onboarding, "compliance") == [] and offered(onboarding, "compliance2") == ["second_approval"]
    task = onboarding.task("second_approval")
    with pytest.raises(NotAllowed, match="compliance did “Compliance sign-off” on this case, so “Second compliance "
                                         "approval” needs someone else"):
        onboarding.engine.claim(task.id, by="compliance")
    with pytest.raises(NotAllowed, match="separation of duties"):
        onboarding.complete("second_approval", {"second_review_notes": "ok", "decision": "approve"},
                            by="compliance")
    assert refusals(onboarding) == [("compliance", "second_approval", "claim"),
                                    ("compliance", "second_approval", "complete")]
    onboarding.complete("second_approval", {"second_review_notes": "PEP screening reviewed.", "decision": "approve"},
                        by="compliance2")
    assert onboarding.elements() == ["activate_service"]


def test_second_approver_may_reject(onboarding):
    through_documents(onboarding, industry_risk="high")
    onboarding.complete("compliance_check", APPROVE, by="compliance")
    onboarding.complete("second_approval", {"second_review_notes": "Source of funds unclear.", "decision": "reject",
                                            "reason": "We cannot verify the source of funds."}, by="compliance2")
    assert onboarding.status == "completed"
    assert onboarding.mails("compliance_decision")[-1][2]["decision"] == "rejected"


def test_a_barred_user_is_not_offered_the_sign_off_cannot_claim_it_and_is_audited(onboarding):
    through_documents(onboarding, by="dual")
    assert offered(onboarding, "dual") == [] and offered(onboarding, "compliance") == ["compliance_check"]
    task = onboarding.task("compliance_check")
    with pytest.raises(NotAllowed, match="dual did “Collect documentation” on this case"):
        onboarding.engine.claim(task.id, by="dual")
    assert onboarding.task("compliance_check").claimed_by is None  # colleagues can still take it
    assert refusals(onboarding) == [("dual", "compliance_check", "claim")]


@pytest.mark.parametrize("by", ["boss", None], ids=["admin", "system"])
def test_no_role_stands_in_for_the_compliance_officer(onboarding, by):
    through_documents(onboarding)
    assert offered(onboarding, "boss") == []
    with pytest.raises(NotAllowed, match="only a Compliance Officer may do it"):
        onboarding.complete("compliance_check", APPROVE, by=by)
    assert onboarding.elements() == ["compliance_check"]
    assert refusals(onboarding) == [(by or "system", "compliance_check", "complete")]
