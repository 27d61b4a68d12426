"""SLA policies: first matching rule wins, per-client agreed targets, and errors naming rule and field."""

import copy
from datetime import timedelta

import pytest

from engine.sla import PolicyError, client_targets, load_policy, parse_duration, shipped_calendars, targets_for

HOURS = timedelta(hours=1)

POLICY = {
    "version": "2026-12",
    "calendar": "za-office",
    "pause_on": ["Waiting on client"],
    "ladders": {"standard": {"warn": [{"percent": 75}],
                             "levels": [{"role": "assignee"}, {"role": "team_lead", "within": "PT4H"}]}},
    "rules": [
        {"name": "safety", "when": {"category": "safety"}, "calendar": "24x7", "client_sla": "stricter",
         "targets": {"acknowledge": "PT15M", "first_response": "PT1H", "resolve": "P1D"}},
        {"name": "urgent", "when": {"severity": ["high", "critical"], "process": "complaint"}, "ladder": "standard",
         "targets": {"acknowledge": "PT1H", "first_response": "PT4H", "next_update": "PT8H", "resolve": "P2D"}},
        {"name": "vip client", "when": {"client": [1042, "acme"]}, "client_sla": "ignore",
         "targets": {"first_response": {"within": "PT2H", "ladder": "standard"}, "resolve": "P3D"}},
        {"name": "default", "when": {},
         "targets": {"acknowledge": "PT4H", "first_response": "PT8H", "next_update": "P1D",
                     "resolve": {"within": "P5D", "calendar": "za-office"}}},
    ],
}


@pytest.fixture
def calendars():
    return shipped_calendars()


@pytest.fixture
def policy(calendars):
    return load_policy(POLICY, calendars)


def lengths(targets):
    return {name: target.length for name, target in targets.items()}


def test_first_matching_rule_wins(policy):
    case = {"process": "complaint", "category": "safety", "severity": "high"}
    targets = targets_for(policy, case)
    assert {t.rule for t in targets.values()} == {"safety"}
    assert targets["acknowledge"].calendar.name == "24x7" and targets["resolve"].length == 24 * HOURS


def test_in_lists_and_case_insensitive_matching(policy):
    targets = targets_for(policy, {"process": "Complaint", "severity": "CRITICAL", "channel": "email"})
    assert targets["resolve"].rule == "urgent" and targets["resolve"].length == 18 * HOURS
    assert targets["first_response"].ladder.name == "standard"
    # All conditions must hold: a high-severity onboarding case is not "urgent".
    assert targets_for(policy, {"process": "onboarding", "severity": "high"})["resolve"].rule == "default"


def test_numbers_and_text_compare_alike(policy):
    assert targets_for(policy, {"client": "1042"})["resolve"].rule == "vip client"
    assert targets_for(policy, {"client": 1042})["first_response"].ladder.name == "standard"


def test_the_catch_all_rule_and_its_calendar(policy):
    targets = targets_for(policy, {"process": "complaint", "severity": "low"})
    assert lengths(targets) == {"acknowledge": 4 * HOURS, "first_response": 8 * HOURS, "next_update": 9 * HOURS,
                                "resolve": 45 * HOURS}
    assert all(t.calendar.name == "za-office" for t in targets.values())


def test_no_matching_rule_gives_no_targets(calendars):
    only_safety = dict(POLICY, rules=POLICY["rules"][:1])
    assert targets_for(load_policy(only_safety, calendars), {"category": "billing"}) == {}


def test_client_agreement_from_onboarding_overrides_the_defaults(policy):
    targets = targets_for(policy, {"process": "complaint"}, {"sla_response_hours": 8, "sla_resolution_days": 3})
    assert targets["first_response"].duration == parse_duration("PT8H")
    assert targets["resolve"].duration == parse_duration("P3D") and targets["resolve"].length == 27 * HOURS
    assert targets["resolve"].rule == "client agreement" and targets["acknowledge"].rule == "default"


def test_client_agreement_looser_than_the_default_still_overrides(policy):
    targets = targets_for(policy, {}, {"response_hours": 16, "resolution_days": 10})
    assert lengths(targets)["first_response"] == 16 * HOURS and lengths(targets)["resolve"] == 90 * HOURS


def test_a_stricter_rule_keeps_the_shorter_target(policy):
    targets = targets_for(policy, {"category": "safety"}, {"response_hours": 0.5, "resolution_days": 5})
    assert targets["first_response"].length == 30 * timedelta(minutes=1)
    assert targets["first_response"].calendar.name == "24x7"
    assert targets["resolve"].rule == "safety"


def test_a_rule_can_ignore_client_agreements(policy):
    targets = targets_for(policy, {"client": "acme"}, {"response_hours": 24})
    assert targets["first_response"].length == 2 * HOURS


def test_an_agreed_target_the_rule_lacks_is_added_on_the_rule_calendar(policy):
    targets = targets_for(policy, {"category": "safety"}, {"update_hours": 2})
    assert targets["next_update"].length == 2 * HOURS and targets["next_update"].calendar.name == "24x7"


def test_unset_agreement_values_leave_the_policy_target(policy):
    targets = targets_for(policy, {}, {"sla_response_hours": None, "sla_resolution_days": ""})
    assert targets["first_response"].rule == "default"


def test_client_targets_accept_numeric_text():
    assert client_targets({"sla_response_hours": "8", "resolution_hours": 12.5}) == {
        "first_response": parse_duration("PT8H"), "resolve": parse_duration("PT12H30M")}


@pytest.mark.parametrize(("agreement", "field", "message"), [
    ({"response_minutes": 30}, "client_sla.response_minutes", "unknown"),
    ({"sla_response_hours": 0}, "client_sla.sla_response_hours", "positive number"),
    ({"sla_response_hours": -4}, "client_sla.sla_response_hours", "positive number"),
    ({"sla_response_hours": "soon"}, "client_sla.sla_response_hours", "positive number"),
    ({"sla_response_hours": True}, "client_sla.sla_response_hours", "positive number"),
    ({"resolution_days": 2.5}, "client_sla.resolution_days", "whole business days"),
])
def test_bad_client_agreements(policy, agreement, field, message):
    with pytest.raises(PolicyError) as caught:
        targets_for(policy, {}, agreement)
    assert caught.value.field == field and message in str(caught.value)


def test_pause_statuses(policy):
    assert policy.pauses("waiting on client") and policy.pauses(" Waiting on Client ")
    assert not policy.pauses("in progress") and policy.version == "2026-12"


def broken(path, value):
    """POLICY with one value replaced (path of keys and indexes); a value of ... deletes it."""
    document = copy.deepcopy(POLICY)
    node = document
    for key in path[:-1]:
        node = node[key]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return document


@pytest.mark.parametrize(("path", "value", "rule", "field", "message"), [
    (("rules", 1, "when", "priority_level"), "P1", 1, "when.priority_level", "unknown field"),
    (("rules", 1, "when", "severity"), [], 1, "when.severity", "non-empty list"),
    (("rules", 1, "when", "severity"), {"gt": 3}, 1, "when.severity", "a text or number"),
    (("rules", 1, "when"), "severity == high", 1, "when", "must be an object"),
    (("rules", 2, "targets", "reply"), "PT1H", 2, "targets.reply", "unknown target"),
    (("rules", 3, "targets", "resolve", "within"), "5 days", 3, "targets.resolve.within", "ISO 8601"),
    (("rules", 3, "targets", "resolve", "within"), "PT0S", 3, "targets.resolve.within", "longer than zero"),
    (("rules", 3, "targets", "resolve"), ..., None, None, None),
    (("rules", 3, "targets", "resolve"), {"calendar": "za-office"}, 3, "targets.resolve.within", "missing"),
    (("rules", 3, "targets", "resolve"), 5, 3, "targets.resolve", "must be a duration"),
    (("rules", 3, "targets", "resolve", "calendar"), "za-offic", 3, "targets.resolve.calendar", "unknown calendar"),
    (("rules", 3, "targets", "resolve", "escalate"), "yes", 3, "targets.resolve.escalate", "unknown field"),
    (("rules", 2, "targets", "first_response", "ladder"), "gold", 2, "targets.first_response.ladder",
     "unknown ladder"),
    (("rules", 0, "calendar"), "mars", 0, "calendar", "unknown calendar"),
    (("rules", 1, "ladder"), "gold", 1, "ladder", "unknown ladder"),
    (("rules", 0, "client_sla"), "prefer", 0, "client_sla", "expected one of"),
    (("rules", 0, "priority"), 1, 0, "priority", "unknown field"),
    (("rules", 1, "targets"), {}, 1, "targets", "missing"),
    (("rules", 1, "name"), 7, 1, "name", "not text"),
    (("rules", 2), "vip", 2, "(rule)", "JSON object"),
    (("rules",), [], None, "rules", "non-empty list"),
    (("calendar",), "mars", None, "calendar", "unknown calendar"),
    (("pause_on",), "waiting", None, "pause_on", "list of case statuses"),
    (("owner",), "ops", None, "owner", "unknown field"),
    (("ladders", "standard", "levels", 1, "within"), ..., None, "ladders.standard.levels[1].within", "deadline"),
])
def test_each_mistake_names_the_rule_and_field(calendars, path, value, rule, field, message):
    document = broken(path, value)
    if field is None:
        # Removing one target is fine: a rule may set only some targets.
        assert "resolve" not in load_policy(document, calendars).rules[3].targets
        return
    with pytest.raises(PolicyError) as caught:
        load_policy(document, calendars)
    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.rule, error.field) == (rule, field)
    assert message in str(error)
    if rule is not None:
        assert str(error).startswith(f"rule {rule}")


def test_a_target_without_any_calendar_is_refused(calendars):
    document = broken(("calendar",), ...)
    with pytest.raises(PolicyError, match=r"rule 1 \(urgent\): targets.acknowledge.calendar: missing"):
        load_policy(document, calendars)


def test_a_policy_must_be_an_object(calendars):
    with pytest.raises(PolicyError, match="policy: \\(document\\)"):
        load_policy([POLICY], calendars)
