"""Policy checks that take a model folder: each deploys the process it needs from `folder` (a copy of processes/
with its forms in `folder/forms`) and asserts one rule of docs/policy-coverage.md, raising AssertionError when the
models or forms no longer keep it. tests/processes/test_policy_mutations.py runs them on the shipped copy (all pass)
and on mutated copies (the named check must fail)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from engine import portal
from engine.core.bundle import read_bundle
from engine.errors import InvalidTaskData, NotAllowed
from engine.privacy.datamap import NO_PURPOSE, process_privacy
from tests.processes.flow import PROCESSES, Flow, advance_and_fire
from tests.processes.test_client_onboarding import ACTIVATION, APPROVE, CHECKS, DOCUMENTS, REQUEST, RM, upload

FORMS = PROCESSES.parent / "forms"
CLIENT = "thandi@example.com"
COMPLAINT = {"client_name": "Thandi Mokoena", "client_email": CLIENT, "client_phone": "+27 82 555 0101",
             "channel": "hotline", "category": "delivery", "description": "The concentrate delivery was 12 days late.",
             "remedy_sought": "Refund the transport fee."}
RESOLVED = {"findings": "The carrier lost the load sheet at the weighbridge.",
            "resolution": "We refunded the transport fee and changed carrier for your route.",
            "corrective_action": "Load sheets are now scanned at the gate."}
ORIENTATION = {"orientation_date": "2026-04-02", "orientation_format": "on_site", "topics": ["safety"],
               "support_channels_explained": True}
# Personal fields the privacy tools must know, by shipped form (POPIA: confidentiality, export, erasure).
PERSONAL = {"complaint_intake.json": ("client_name", "client_email", "client_phone"),
            "inquiry_intake.json": ("client_name", "client_email"),
            "onboarding_request.json": ("contact_name", "client_email"),
            "onboarding_documents.json": ("bank_details.account_number", "id_document")}


@dataclass
class Models:
    """A copy of the shipped models and forms, and the engine and clock the checks run on."""

    folder: Path
    engine: object
    clock: object

    def deploy(self, key: str) -> None:
        files = read_bundle(self.folder / f"{key}.bpmn", [self.folder / "forms"],
                            extra=sorted(self.folder.glob("*.dmn")))
        self.engine.deploy_files(files, key, "process-owner")

    def start(self, key: str, data: dict, by: str) -> Flow:
        self.deploy(key)
        return Flow(self.engine, self.engine.start(key, data, by=by).id)


def copy_models(target: Path) -> Path:
    """processes/ with forms/ inside it, ready to mutate."""
    shutil.copytree(PROCESSES, target)
    shutil.copytree(FORMS, target / "forms")
    return target


def refused(action, field: str) -> None:
    try:
        action()
    except InvalidTaskData as err:
        assert field in err.errors, f"refused, but not for {field}: {err.errors}"
        return
    raise AssertionError(f"accepted without {field}")


# -- onboarding ----------------------------------------------------------------------------------------------

def _documents(m: Models, **changes) -> Flow:
    flow = m.start("client_onboarding", REQUEST, by="rm")
    flow.complete("assign_relationship_manager", RM, by="rm")
    flow.complete("collect_documents", {**DOCUMENTS, **upload(flow), **changes}, by="officer")
    return flow


def _active(m: Models) -> Flow:
    m.deploy("kyc_review")  # activation hands off to it; onboarding waits there until it can start
    flow = _documents(m)
    flow.complete("compliance_check", APPROVE, by="compliance")
    flow.complete("activate_service", ACTIVATION, by="officer")
    return flow


def terms_explained_required(m: Models) -> None:
    """001 3.2 / 000 3 Transparency: the client confirmed the terms before compliance."""
    flow = m.start("client_onboarding", REQUEST, by="rm")
    flow.complete("assign_relationship_manager", RM, by="rm")
    refused(lambda: flow.complete("collect_documents", {**DOCUMENTS, **upload(flow), "terms_explained": False},
                                  by="officer"), "terms_explained")


def every_compliance_check_required(m: Models) -> None:
    """001 3.2: every check ticked before approval."""
    flow = _documents(m)
    for check in CHECKS:
        refused(lambda check=check: flow.complete("compliance_check", {**APPROVE, check: False}, by="compliance"),
                check)


def expired_document_blocks_approval(m: Models) -> None:
    """001 3.2: an expired document blocks approval."""
    yesterday = (m.clock.now() - timedelta(days=1)).date().isoformat()
    flow = m.start("client_onboarding", REQUEST, by="rm")
    flow.complete("assign_relationship_manager", RM, by="rm")
    flow.complete("collect_documents", {**DOCUMENTS, **upload(flow), **upload(flow, expires=yesterday,
                                                                              id_document="id")}, by="officer")
    refused(lambda: flow.complete("compliance_check", APPROVE, by="compliance"), "decision")


def collector_cannot_sign_off(m: Models) -> None:
    """001 3.2 / 5: four eyes: who collected the documents cannot sign off."""
    flow = m.start("client_onboarding", REQUEST, by="rm")
    flow.complete("assign_relationship_manager", RM, by="rm")
    flow.complete("collect_documents", {**DOCUMENTS, **upload(flow, by="dual")}, by="dual")
    flow.fresh()
    offered = [t.element_id for t in m.engine.tasks(user="dual") if t.instance_id == flow.id]
    assert "compliance_check" not in offered, "the collector is offered the sign-off"


def sign_offs_in_the_compliance_lane(m: Models) -> None:
    """001 5: the compliance sign-off and the second approval belong to the Compliance Officer."""
    flow = _documents(m, pep_involved=True)
    assert flow.task("compliance_check").lane == "Compliance Officer"
    flow.complete("compliance_check", APPROVE, by="compliance")
    assert flow.task("second_approval").lane == "Compliance Officer"


def high_risk_needs_a_second_approver(m: Models) -> None:
    """001 3.2 / 5: risk-based approval: high risk needs a second approval."""
    flow = _documents(m, pep_involved=True)
    assert (flow.data["risk_rating"], flow.data["approval_tier"]) == ("high", "dual")
    flow.complete("compliance_check", APPROVE, by="compliance")
    assert flow.elements() == ["second_approval"], flow.elements()


def activation_needs_the_agreed_sla(m: Models) -> None:
    """000 3 Transparency / 001 4.1: response and resolution times agreed at activation."""
    flow = _documents(m)
    flow.complete("compliance_check", APPROVE, by="compliance")
    refused(lambda: flow.complete("activate_service", {**ACTIVATION, "sla_agreed": False}, by="officer"),
            "sla_agreed")


def orientation_explains_support_channels(m: Models) -> None:
    """001 3.3: the client knows the support channels."""
    flow = _active(m)
    refused(lambda: flow.complete("orientation", {**ORIENTATION, "support_channels_explained": False}, by="rm"),
            "support_channels_explained")


def check_ins_remind_and_end_with_a_survey(m: Models) -> None:
    """001 4.3 regular check-ins (30 and 90 days) with a reminder; 000 3 / 001 4.4 the survey at the end."""
    flow = _active(m)
    flow.complete("setup_portal", {"portal_username": "bokamoso.ops", "systems": ["customer_portal"],
                                   "access_tested": True}, by="itadmin")
    flow.complete("orientation", ORIENTATION, by="rm")
    advance_and_fire(m.engine, m.clock, days=29)
    assert flow.elements() == [], "a check-in came before 30 days"
    advance_and_fire(m.engine, m.clock, days=1)
    assert flow.mails("checkin_reminder"), "no reminder to the relationship manager"
    flow.complete("first_checkin", {"first_checkin_satisfaction": 4, "first_checkin_notes": "Fine."}, by="rm")
    advance_and_fire(m.engine, m.clock, days=60)
    flow.complete("second_checkin", {"second_checkin_satisfaction": 5, "second_checkin_notes": "Good."}, by="rm")
    assert flow.status == "completed", flow.elements()
    assert [to for _, to, _ in flow.mails("survey_invitation")] == [REQUEST["client_email"]], "no survey"


def activation_schedules_the_kyc_review(m: Models) -> None:
    """001 3.2: the periodic KYC review, yearly for low risk."""
    flow = _active(m)
    opened = flow.data.get("kyc_review_opened")
    assert opened, "no KYC review was opened at activation"
    review = Flow(m.engine, opened["started_instance_id"])
    [due] = review.pending_timers().values()
    assert 364 <= (due - m.clock.now()).days <= 366, due


def kyc_refresh_blocks_expired_documents(m: Models) -> None:
    """001 3.2: a KYC review cannot be confirmed on an expired document."""
    review = m.start("kyc_review", {"company_name": "Thaba", "client_email": "naledi@thaba.example",
                                    "kyc_review_interval": "P3M"}, by="compliance")
    advance_and_fire(m.engine, m.clock, days=93)
    yesterday = (m.clock.now() - timedelta(days=1)).date().isoformat()
    docs = {f: m.engine.documents.upload(review.id, k, "x.pdf", b"%PDF-1.4\n", yesterday if k == "tax" else
                                         "2099-12-31", "compliance").reference
            for f, k in {"id_document": "id", "registration_document": "registration", "tax_document": "tax",
                         "bank_confirmation": "bank_confirmation"}.items()}
    ticks = dict.fromkeys(("identity_verified", "registration_verified", "tax_status_verified",
                           "bank_details_verified", "sanctions_screened"), True)
    refused(lambda: review.complete("refresh_kyc", {**ticks, **docs, "pep_involved": False,
                                                    "high_risk_jurisdiction": False, "industry_risk": "low",
                                                    "kyc_outcome": "confirmed"}, by="compliance"), "kyc_outcome")


def rejection_needs_a_reason(m: Models) -> None:
    """001 3.2: a rejection is explained to the client (reason required)."""
    flow = _documents(m)
    refused(lambda: flow.complete("compliance_check", {"decision": "reject"}, by="compliance"), "reason")


def welcome_package_names_the_relationship_manager(m: Models) -> None:
    """001 3.1: a dedicated relationship manager, whose contacts the welcome package carries."""
    flow = m.start("client_onboarding", REQUEST, by="rm")
    assert flow.task("assign_relationship_manager").lane == "Relationship Manager"
    flow.complete("assign_relationship_manager", RM, by="rm")
    [(_, to, welcome)] = flow.mails("welcome_package")
    assert to == REQUEST["client_email"]
    for key in ("relationship_manager", "relationship_manager_email", "relationship_manager_phone"):
        assert welcome.get(key) == RM[key], f"the welcome package lacks {key}"


# -- complaints ----------------------------------------------------------------------------------------------

def complaint_channels_accepted(m: Models) -> None:
    """001 4.1 / 003 5: hotline, e-mail, website, walk-in and suggestion box."""
    m.deploy("complaint_handling")
    for channel in ("hotline", "email", "website", "walk_in", "suggestion_box"):
        try:
            m.engine.start("complaint_handling", {**COMPLAINT, "channel": channel}, by="agent")
        except InvalidTaskData as err:
            raise AssertionError(f"a complaint by {channel} was refused: {err.errors}") from err


def complaints_get_a_reference(m: Models) -> None:
    """000 6 / 001 4.2: every complaint is logged with a unique reference."""
    first = m.start("complaint_handling", COMPLAINT, by="agent")
    second = m.engine.start("complaint_handling", COMPLAINT, by="agent")
    references = [m.engine.instance(first.id).reference, second.reference]
    assert all(r and r.startswith("CMP-") for r in references) and len(set(references)) == 2, references


def complaint_acknowledged_at_receipt(m: Models) -> None:
    """000 6 / 003 Strategy 2: the client is acknowledged with the reference the moment the complaint is logged."""
    flow = m.start("complaint_handling", COMPLAINT, by="agent")
    mails = [p for _, to, p in flow.mails("complaint_acknowledgement") if to == CLIENT]
    assert mails and mails[0]["reference"] == m.engine.instance(flow.id).reference, "no acknowledgement at receipt"


def safety_complaints_triaged_first(m: Models) -> None:
    """002 4.5 (ISO 10002 initial assessment): safety complaints go to a supervisor at once."""
    flow = m.start("complaint_handling", {**COMPLAINT, "category": "safety_environment"}, by="agent")
    assert flow.elements() == ["urgent_register"], flow.elements()
    assert flow.task("urgent_register").lane == "Supervisor"


def intake_keeps_the_remedy_sought(m: Models) -> None:
    """003 Strategy 3: listen to the customer: what they want done is recorded."""
    flow = m.start("complaint_handling", COMPLAINT, by="agent")
    assert flow.data.get("remedy_sought") == COMPLAINT["remedy_sought"], "the remedy sought was not kept"


def resolution_records_corrective_action(m: Models) -> None:
    """002 4.5: corrective actions documented."""
    flow = m.start("complaint_handling", COMPLAINT, by="agent")
    flow.complete("register", {"severity": "medium", "handler_email": "agent@example.com"}, by="agent")
    flow.complete("investigate", RESOLVED, by="agent")
    assert flow.data.get("corrective_action") == RESOLVED["corrective_action"], "corrective action not kept"


def warning_sends_the_client_nothing(m: Models) -> None:
    """000 5: avoid over-communication: the SLA warning goes to staff only."""
    flow = m.start("complaint_handling", COMPLAINT, by="agent")
    flow.complete("register", {"severity": "high", "handler_email": "agent@example.com"}, by="agent")
    before = [mail for mail in flow.mails() if mail[1] == CLIENT]
    due = flow.task("investigate").due_at
    fired = advance_and_fire(m.engine, m.clock, seconds=(due - m.clock.now()).total_seconds() - 60)
    assert fired >= 1 and flow.mails("sla_warning"), "no warning fired"
    assert [mail for mail in flow.mails() if mail[1] == CLIENT] == before, "the client was mailed on the warning"



def decision_reviewed_independently(m: Models) -> None:
    """002 4.5 / ISO 10002: the decision is reviewed, before the client hears it, by a supervisor not involved."""
    flow = m.start("complaint_handling", COMPLAINT, by="agent")
    flow.complete("register", {"severity": "medium", "handler_email": "agent@example.com"}, by="agent")
    flow.complete("investigate", RESOLVED, by="agent")
    assert flow.elements() == ["review_decision"], f"no review: {flow.elements()}"
    assert "resolved" not in [mail.get("stage") for _, _, mail in flow.mails("status_update")]
    try:
        flow.complete("review_decision", {"review_outcome": "approve"}, by="boss")
    except NotAllowed:
        return
    raise AssertionError("an admin stood in for the independent reviewer")


def client_can_say_not_resolved(m: Models) -> None:
    """000 6 / ISO 10002: after the resolution the client can say it is not resolved, and the case reopens."""
    flow = m.start("complaint_handling", COMPLAINT, by="agent")
    flow.complete("register", {"severity": "medium", "handler_email": "agent@example.com"}, by="agent")
    flow.complete("investigate", RESOLVED, by="agent")
    flow.complete("review_decision", {"review_outcome": "approve"}, by="supervisor")
    assert "client_not_resolved" in portal.waiting_messages(m.engine, flow.id), "the verdict is not waited for"
    portal.send_message(m.engine, "client_not_resolved", m.engine.instance(flow.id).reference,
                        {"reason": "The refund has not arrived."})
    assert flow.elements() == ["investigate"] and flow.data["reopen_reason"] == "The refund has not arrived."


# -- inquiries, suggestions, feedback ------------------------------------------------------------------------

def inquiry_channels_accepted(m: Models) -> None:
    """001 4.2: support requests from every channel."""
    m.deploy("inquiry")
    schema = json.loads((m.folder / "forms" / "inquiry_intake.json").read_text())
    for channel in ("hotline", "email", "website", "walk_in", "letter", "social_media", "public_meeting"):
        assert channel in schema["properties"]["channel"]["enum"], f"the {channel} channel is gone"


def inquiries_routed_by_category(m: Models) -> None:
    """001 4.2: support requests routed to the team that can answer."""
    m.deploy("inquiry")
    for category, element, lane in (("technical", "answer_technical", "Technical Support"),
                                    ("account", "answer_account", "Relationship Manager"),
                                    ("billing", "answer_general", "Customer Care Agent")):
        flow = Flow(m.engine, m.engine.start("inquiry", {
            "client_name": "Thandi", "client_email": CLIENT, "channel": "hotline", "category": category,
            "question": "How do I reset the portal password for our second user?"}, by="agent").id)
        assert flow.elements() == [element] and flow.task(element).lane == lane, (category, flow.elements())


def suggestion_acknowledged_at_once(m: Models) -> None:
    """003 Strategy 2: respond at once, with the reference."""
    flow = m.start("suggestion", {"submitter_name": "Naledi", "submitter_email": "naledi@example.com",
                                  "channel": "suggestion_box", "suggestion": "Please add a shelter at the gate."},
                   by="agent")
    mails = [p for template, to, p in flow.mails("status_update") if to == "naledi@example.com"]
    assert mails and mails[0].get("reference") == m.engine.instance(flow.id).reference, mails


def suggestions_from_public_meetings(m: Models) -> None:
    """003 5: concerns raised at public meetings (imbizo) are noted."""
    m.deploy("suggestion")
    schema = json.loads((m.folder / "forms" / "suggestion_intake.json").read_text())
    assert "public_meeting" in schema["properties"]["channel"]["enum"], "the public_meeting channel is gone"


def survey_takes_ratings_from_one_to_five(m: Models) -> None:
    """002 4.4: satisfaction measured on one scale: 1 to 5, nothing else."""
    m.deploy("feedback")
    for rating in (0, 6):
        refused(lambda rating=rating: m.engine.start("feedback", {"rating": rating, "client_email": CLIENT},
                                                     by="agent"), "rating")


def low_rating_gets_service_recovery(m: Models) -> None:
    """002 4.4: feedback addressed: a rating of 1 or 2 gets a supervisor's follow-up."""
    flow = m.start("feedback", {"rating": 2, "comments": "Nobody called me back.", "client_email": "pule@example.com",
                                "about_reference": "CMP-2026-000042", "may_contact": True}, by="agent")
    assert "recover_service" in flow.elements(), flow.elements()


# -- privacy, purpose ----------------------------------------------------------------------------------------

def personal_fields_are_marked(m: Models) -> None:
    """000 3-4 / 004 3: the privacy tools know every personal field of the shipped forms."""
    for key in ("complaint_handling", "inquiry", "client_onboarding"):
        m.deploy(key)
    with m.engine.read_session() as session:
        for process in m.engine.processes():
            model = m.engine.model(session.connection(), process.definition_id)
            known = process_privacy(model, process.key, process.version).paths
            for form, fields in PERSONAL.items():
                if form in model.forms:
                    missing = [f for f in fields if f not in known or form not in known[f].forms]
                    assert not missing, f"{form}: {missing} not marked personal"


def every_process_states_its_purpose(m: Models) -> None:
    """004 3: POPIA s13 purpose on every process."""
    keys = sorted(p.stem for p in m.folder.glob("*.bpmn"))
    for key in keys:
        m.deploy(key)
    with m.engine.read_session() as session:
        for process in m.engine.processes():
            model = m.engine.model(session.connection(), process.definition_id)
            assert process_privacy(model, process.key, process.version).purpose != NO_PURPOSE, process.key
