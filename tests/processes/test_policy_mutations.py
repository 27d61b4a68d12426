"""The policy map cannot drift into paper: every check of tests/processes/policy.py passes on a copy of the shipped
models and forms, and each mutation in the table below (a required field made optional, an element deleted, a
channel dropped, a task moved to another lane, a client mail added on a warning path, `x-personal` removed...),
applied to a fresh copy and deployed, makes its check fail. Checks run in-process on the real database."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import policy
from tests.processes.policy import Models, copy_models

# The check-ins move the clock by 90 days, firing every earlier case's timers too: they run first.
CHECKS = [getattr(policy, name) for name in (
    "check_ins_remind_and_end_with_a_survey", "terms_explained_required", "every_compliance_check_required",
    "expired_document_blocks_approval",
    "collector_cannot_sign_off", "sign_offs_in_the_compliance_lane", "high_risk_needs_a_second_approver",
    "activation_needs_the_agreed_sla", "orientation_explains_support_channels", "activation_schedules_the_kyc_review",
    "kyc_refresh_blocks_expired_documents", "complaint_channels_accepted", "intake_keeps_the_remedy_sought",
    "resolution_records_corrective_action", "warning_sends_the_client_nothing", "inquiry_channels_accepted",
    "suggestions_from_public_meetings", "low_rating_gets_service_recovery", "personal_fields_are_marked",
    "every_process_states_its_purpose", "rejection_needs_a_reason", "welcome_package_names_the_relationship_manager",
    "complaints_get_a_reference", "inquiries_routed_by_category", "suggestion_acknowledged_at_once",
    "survey_takes_ratings_from_one_to_five", "complaint_acknowledged_at_receipt",
    "safety_complaints_triaged_first", "decision_reviewed_independently", "client_can_say_not_resolved")]


# -- mutations: each edits the copy and fails loudly when the text it targets is gone --------------------------

def replace(file: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        path = folder / file
        text = path.read_text()
        assert text.count(old) == 1, f"mutation target not found once in {file}: {old!r}"
        path.write_text(text.replace(old, new))
    return apply


def both(*mutations: Callable[[Path], None]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        for mutation in mutations:
            mutation(folder)
    return apply


def edit_form(form: str, change: Callable[[dict, dict], None]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        path = folder / "forms" / form
        ui_path = path.with_name(path.stem + ".ui.json")
        schema, ui = json.loads(path.read_text()), json.loads(ui_path.read_text()) if ui_path.exists() else {}
        change(schema, ui)
        path.write_text(json.dumps(schema))
        if ui_path.exists():
            ui_path.write_text(json.dumps(ui))
    return apply


def not_required(field: str):
    def change(schema, ui):
        schema["properties"][field].pop("x-required-if", None)
        schema["required"] = [f for f in schema.get("required", []) if f != field]
    return change


def delete_field(field: str):
    def change(schema, ui):
        del schema["properties"][field]
        schema["required"] = [f for f in schema.get("required", []) if f != field]
        ui.pop(field, None)
        if "ui:order" in ui:
            ui["ui:order"] = [f for f in ui["ui:order"] if f != field]
    return change


def drop_choice(field: str, value: str):
    def change(schema, ui):
        choices = schema["properties"][field]["enum"]
        index = choices.index(value)
        choices.pop(index)
        names = (ui.get(field) or {}).get("ui:enumNames")
        if names:
            names.pop(index)
        if schema["properties"][field].get("default") == value:
            schema["properties"][field]["default"] = choices[0]
    return change


def set_default(field: str, value):
    def change(schema, ui):
        schema["properties"][field]["default"] = value
    return change


def add_choice(field: str, value):
    def change(schema, ui):
        schema["properties"][field]["enum"].append(value)
        names = (ui.get(field) or {}).get("ui:enumNames")
        if names:
            names.append(str(value))
    return change


def not_personal(field: str):
    def change(schema, ui):
        assert schema["properties"][field].pop("x-personal", None), field
    return change


@dataclass(frozen=True)
class Mutation:
    name: str
    apply: Callable[[Path], None]
    check: Callable[[Models], None]


ONB, CMP, KYC = "client_onboarding.bpmn", "complaint_handling.bpmn", "kyc_review.bpmn"
MUTATIONS = [
    Mutation("first check-in after 60 days", edit_form("onboarding_request.json", set_default("checkin_first", "P60D")),
             policy.check_ins_remind_and_end_with_a_survey),
    Mutation("onboarding ends without the survey",
             replace(ONB, 'notify("survey_invitation", client_email, reference=reference, client_name=contact_name, '
                          'survey="feedback")', "pass"), policy.check_ins_remind_and_end_with_a_survey),
    Mutation("terms_explained optional", edit_form("onboarding_documents.json", not_required("terms_explained")),
             policy.terms_explained_required),
    Mutation("sanctions screening optional at approval",
             edit_form("onboarding_compliance.json", not_required("sanctions_screened")),
             policy.every_compliance_check_required),
    Mutation("compliance_check without the document expiry gate",
             replace(ONB, 'value="collect_documents" />\n          <spiffworkflow:property name="documentsValidFor"',
                     'value="collect_documents" />\n          <spiffworkflow:property name="noDocumentGate"'),
             policy.expired_document_blocks_approval),
    Mutation("compliance_check without separation of duties",
             replace(ONB, '<spiffworkflow:property name="separationOfDutiesFrom" value="collect_documents" />', ""),
             policy.collector_cannot_sign_off),
    Mutation("compliance_check moved to the Onboarding Officer lane", both(
        replace(ONB, "<bpmn:flowNodeRef>compliance_check</bpmn:flowNodeRef>\n", ""),
        replace(ONB, "<bpmn:flowNodeRef>collect_documents</bpmn:flowNodeRef>\n",
                "<bpmn:flowNodeRef>collect_documents</bpmn:flowNodeRef>\n<bpmn:flowNodeRef>compliance_check"
                "</bpmn:flowNodeRef>\n")), policy.sign_offs_in_the_compliance_lane),
    Mutation("PEP rated single approval",
             replace("onboarding_risk.dmn", '<outputEntry id="rule_1_tier"><text>"dual"',
                     '<outputEntry id="rule_1_tier"><text>"single"'), policy.high_risk_needs_a_second_approver),
    Mutation("sla_agreed optional", edit_form("onboarding_activation.json", not_required("sla_agreed")),
             policy.activation_needs_the_agreed_sla),
    Mutation("support_channels_explained optional",
             edit_form("onboarding_orientation.json", not_required("support_channels_explained")),
             policy.orientation_explains_support_channels),
    Mutation("no KYC review hand-off",
             replace(ONB, '<spiffworkflow:property name="startsProcess" value="kyc_review" />', ""),
             policy.activation_schedules_the_kyc_review),
    Mutation("low risk reviewed every two years",
             replace("onboarding_risk.dmn", '<text>"P1Y"</text>', '<text>"P2Y"</text>'),
             policy.activation_schedules_the_kyc_review),
    Mutation("KYC refresh without the expiry gate",
             replace(KYC, '<spiffworkflow:property name="documentsValidFor" value="kyc_outcome=confirmed" />', ""),
             policy.kyc_refresh_blocks_expired_documents),
    Mutation("walk_in channel dropped", edit_form("complaint_intake.json", drop_choice("channel", "walk_in")),
             policy.complaint_channels_accepted),
    Mutation("email channel dropped", edit_form("complaint_intake.json", drop_choice("channel", "email")),
             policy.complaint_channels_accepted),
    Mutation("remedy_sought deleted", edit_form("complaint_intake.json", delete_field("remedy_sought")),
             policy.intake_keeps_the_remedy_sought),
    Mutation("corrective_action deleted", edit_form("complaint_resolution.json", delete_field("corrective_action")),
             policy.resolution_records_corrective_action),
    Mutation("client mailed on the warning path",
             replace(CMP, '<bpmn:script>notify("sla_warning", handler_email,',
                     '<bpmn:script>notify("status_update", client_email, reference=reference, stage="warned")\n'
                     'notify("sla_warning", handler_email,'),
             policy.warning_sends_the_client_nothing),
    Mutation("public_meeting dropped from inquiries", edit_form("inquiry_intake.json",
                                                                 drop_choice("channel", "public_meeting")),
             policy.inquiry_channels_accepted),
    Mutation("public_meeting dropped from suggestions", edit_form("suggestion_intake.json",
                                                                   drop_choice("channel", "public_meeting")),
             policy.suggestions_from_public_meetings),
    Mutation("x-personal removed from the complaint e-mail",
             edit_form("complaint_intake.json", not_personal("client_email")), policy.personal_fields_are_marked),
    Mutation("x-personal removed from the inquiry name",
             edit_form("inquiry_intake.json", not_personal("client_name")), policy.personal_fields_are_marked),
    Mutation("only a rating of 1 gets service recovery",
             replace("feedback.bpmn", "needs_follow_up = rating &lt;= 2", "needs_follow_up = rating &lt;= 1"),
             policy.low_rating_gets_service_recovery),
    Mutation("rejection without a reason", edit_form("onboarding_compliance.json", not_required("reason")),
             policy.rejection_needs_a_reason),
    Mutation("welcome package without the manager's e-mail",
             replace(ONB, "relationship_manager_email=relationship_manager_email,", ""),
             policy.welcome_package_names_the_relationship_manager),
    Mutation("assign_relationship_manager moved to the Onboarding Officer lane", both(
        replace(ONB, "<bpmn:flowNodeRef>assign_relationship_manager</bpmn:flowNodeRef>\n", ""),
        replace(ONB, "<bpmn:flowNodeRef>collect_documents</bpmn:flowNodeRef>\n",
                "<bpmn:flowNodeRef>collect_documents</bpmn:flowNodeRef>\n<bpmn:flowNodeRef>"
                "assign_relationship_manager</bpmn:flowNodeRef>\n")),
             policy.welcome_package_names_the_relationship_manager),
    Mutation("complaints without a reference prefix",
             replace(CMP, '<spiffworkflow:property name="referencePrefix" value="CMP" />', ""),
             policy.complaints_get_a_reference),
    Mutation("technical questions routed to the general desk",
             replace("inquiry.bpmn", 'category == "technical"', 'category == "technical_"'),
             policy.inquiries_routed_by_category),
    Mutation("suggestion not acknowledged",
             replace("suggestion.bpmn",
                     'notify("status_update", submitter_email, reference=reference, stage="received",\n'
                     '       message="Thank you for your suggestion. We will reply once it has been reviewed.")',
                     "pass"),
             policy.suggestion_acknowledged_at_once),
    Mutation("a rating of 6 allowed", edit_form("feedback_survey.json", add_choice("rating", 6)),
             policy.survey_takes_ratings_from_one_to_five),
    Mutation("no acknowledgement at receipt",
             replace(CMP, 'notify("complaint_acknowledgement", client_email, reference=reference, '
                          'client_name=client_name,\n'
                          '       category=category, channel=channel)</bpmn:script>\n    </bpmn:scriptTask>\n'
                          '    <bpmn:businessRuleTask id="triage"',
                     'pass</bpmn:script>\n    </bpmn:scriptTask>\n    <bpmn:businessRuleTask id="triage"'),
             policy.complaint_acknowledged_at_receipt),
    Mutation("safety complaints not urgent",
             replace("complaint_triage.dmn", '<outputEntry id="rule_1_triage"><text>"urgent"',
                     '<outputEntry id="rule_1_triage"><text>"standard"'),
             policy.safety_complaints_triaged_first),
    Mutation("review_decision without separation of duties",
             replace(CMP, '<spiffworkflow:property name="separationOfDutiesFrom" '
                          'value="investigate,supervisor_resolve,manager_resolve" />', ""),
             policy.decision_reviewed_independently),
    Mutation("no not-resolved message on the follow-up",
             replace(CMP, 'messageRef="Message_client_not_resolved"', 'messageRef="Message_sla_referral"'),
             policy.client_can_say_not_resolved),
    Mutation("feedback purpose deleted", replace("feedback.bpmn", '<spiffworkflow:property name="purpose"',
                                                 '<spiffworkflow:property name="was_purpose"'),
             policy.every_process_states_its_purpose),
]


@pytest.fixture
def models(tmp_path, engine, staff, clock):
    """A fresh copy of the models each call. One engine serves every copy: each check deploys what it runs right
    before running it, so the newest version is always the copy's (a deploy compares with the newest only)."""
    return lambda: Models(copy_models(tmp_path / f"copy{len(list(tmp_path.iterdir()))}"), engine, clock)


def test_every_check_passes_on_the_shipped_models(models):
    for check in CHECKS:
        check(models())


def test_every_check_has_a_mutation_and_a_row_in_the_map():
    assert {m.check for m in MUTATIONS} == set(CHECKS)
    coverage = (Path(__file__).resolve().parents[2] / "docs" / "policy-coverage.md").read_text()
    table = coverage.split("## The mutation check", 1)[1].split("\n## ", 1)[0]
    assert set(re.findall(r"`policy\.([a-z_]+)`", table)) == {c.__name__ for c in CHECKS}


def test_each_mutation_makes_its_check_fail(models):
    """In one test on one database (about 1 s a mutation instead of a fresh database each)."""
    survived = []
    for mutation in MUTATIONS:
        copy = models()
        mutation.apply(copy.folder)
        try:
            mutation.check(copy)
        except AssertionError:
            continue
        survived.append(f"{mutation.name} ({mutation.check.__name__} still passes)")
    assert survived == [], "mutations the policy checks did not notice"
