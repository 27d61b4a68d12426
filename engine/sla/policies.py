"""SLA policies as data: ordered rules over case data, first match wins, each giving targets; client overrides."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from .calendar import BusinessCalendar
from .durations import Duration, parse_duration
from .errors import DurationError, LadderError, PolicyError
from .ladders import Ladder, load_ladders
from .targets import TARGET_NAMES, Target

CONDITION_FIELDS = ("process", "category", "severity", "priority", "channel", "client")
CLIENT_MODES = ("override", "stricter", "ignore")
# Client agreement keys -> (target, unit). Onboarding stores the agreement with an `sla_` prefix.
CLIENT_KEYS = {
    "acknowledge_hours": ("acknowledge", "hours"),
    "response_hours": ("first_response", "hours"),
    "update_hours": ("next_update", "hours"),
    "resolution_hours": ("resolve", "hours"),
    "resolution_days": ("resolve", "days"),
}
_RULE_FIELDS = {"name", "when", "targets", "calendar", "ladder", "client_sla"}
_POLICY_FIELDS = {"version", "description", "calendar", "pause_on", "ladders", "rules"}


@dataclass(frozen=True)
class Rule:
    """One policy rule: conditions (all must hold; a list means any of) and the targets it gives."""

    index: int
    name: str
    when: Mapping[str, frozenset[str]]
    targets: Mapping[str, Target]
    calendar: BusinessCalendar | None = None
    ladder: Ladder | None = None
    client_sla: str = "override"

    def matches(self, case_data: Mapping) -> bool:
        """Whether every condition holds for the case (text compared without case)."""
        return all(_norm(case_data.get(key)) in allowed for key, allowed in self.when.items())


@dataclass(frozen=True)
class Policy:
    """An ordered list of rules plus the statuses that pause clocks and the ladders the rules use."""

    rules: tuple[Rule, ...]
    version: str = ""
    calendar: BusinessCalendar | None = None
    pause_on: frozenset[str] = frozenset()
    ladders: Mapping[str, Ladder] = field(default_factory=dict)

    def pauses(self, status: str) -> bool:
        """Whether a case status (e.g. "waiting on client") pauses the clocks."""
        return _norm(status) in self.pause_on

    def rule_for(self, case_data: Mapping) -> Rule | None:
        """The first rule whose conditions hold, or None."""
        return next((rule for rule in self.rules if rule.matches(case_data)), None)


def load_policy(document: Mapping, calendars: Mapping[str, BusinessCalendar]) -> Policy:
    """Validate a policy document against the known calendars; PolicyError names the rule index and field."""
    if not isinstance(document, Mapping):
        raise PolicyError(None, "(document)", "a policy must be a JSON object with a `rules` list")
    unknown = sorted(set(document) - _POLICY_FIELDS)
    if unknown:
        raise PolicyError(None, unknown[0], f"unknown field; expected one of {', '.join(sorted(_POLICY_FIELDS))}")
    try:
        ladders = load_ladders(document.get("ladders", {}))
    except LadderError as error:
        raise PolicyError(None, f"ladders.{error.ladder}.{error.field}", error.problem) from None
    default = _calendar(None, None, "calendar", document.get("calendar"), calendars)
    pause_on = document.get("pause_on", [])
    if not isinstance(pause_on, list) or not all(isinstance(s, str) for s in pause_on):
        raise PolicyError(None, "pause_on", "must be a list of case statuses such as [\"waiting on client\"]")
    rules = document.get("rules")
    if not isinstance(rules, list) or not rules:
        raise PolicyError(None, "rules", "missing: a non-empty list of rules, first match wins")
    built = tuple(_rule(i, body, default, calendars, ladders) for i, body in enumerate(rules))
    return Policy(rules=built, version=str(document.get("version", "")), calendar=default,
                  pause_on=frozenset(_norm(s) for s in pause_on), ladders=ladders)


def targets_for(policy: Policy, case_data: Mapping, client_sla: Mapping | None = None) -> dict[str, Target]:
    """The targets for a case: the first matching rule's, with the client's agreed targets applied."""
    rule = policy.rule_for(case_data)
    targets = dict(rule.targets) if rule else {}
    mode = rule.client_sla if rule else "override"
    if not client_sla or mode == "ignore":
        return targets
    base_calendar = (rule.calendar if rule else None) or policy.calendar
    base_ladder = rule.ladder if rule else None
    for name, duration in client_targets(client_sla).items():
        current = targets.get(name)
        calendar = current.calendar if current else base_calendar
        if calendar is None:
            raise PolicyError(rule.index if rule else None, "calendar",
                              f"the client agreement sets {name} but no calendar is given to count it on")
        agreed = Target(name=name, duration=duration, calendar=calendar,
                        ladder=current.ladder if current else base_ladder, rule="client agreement")
        if current is None or mode == "override" or agreed.length < current.length:
            targets[name] = agreed
    return targets


def client_targets(agreement: Mapping) -> dict[str, Duration]:
    """Agreed targets from a client record (`response_hours: 8`, `sla_resolution_days: 5`, ...)."""
    result = {}
    for key, value in agreement.items():
        plain = key.removeprefix("sla_") if isinstance(key, str) else key
        if plain not in CLIENT_KEYS:
            raise PolicyError(None, f"client_sla.{key}", f"unknown; expected one of {', '.join(CLIENT_KEYS)}")
        if value is None or value == "":
            continue  # not agreed: the policy's own target stands
        try:
            amount = Decimal(str(value)) if not isinstance(value, bool) else None
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or amount <= 0:
            raise PolicyError(None, f"client_sla.{key}", f"{value!r} is not a positive number")
        target, unit = CLIENT_KEYS[plain]
        if unit == "hours":
            result[target] = Duration(time=timedelta(seconds=float(amount * 3600)))
        elif amount == amount.to_integral_value():
            result[target] = Duration(days=int(amount))
        else:
            raise PolicyError(None, f"client_sla.{key}", f"{value!r}: agree whole business days, or use hours")
    return result


def _rule(index: int, body, default: BusinessCalendar | None, calendars: Mapping[str, BusinessCalendar],
          ladders: Mapping[str, Ladder]) -> Rule:
    if not isinstance(body, Mapping):
        raise PolicyError(index, "(rule)", "must be a JSON object with `when` and `targets`")
    name = body.get("name") or f"rule {index}"
    if not isinstance(name, str):
        raise PolicyError(index, "name", f"{name!r} is not text")
    unknown = sorted(set(body) - _RULE_FIELDS)
    if unknown:
        raise PolicyError(index, unknown[0], f"unknown field; expected one of {', '.join(sorted(_RULE_FIELDS))}",
                          name)
    when = _conditions(index, name, body.get("when", {}))
    calendar = _calendar(index, name, "calendar", body.get("calendar"), calendars) or default
    ladder = _ladder(index, name, "ladder", body.get("ladder"), ladders)
    mode = body.get("client_sla", "override")
    if mode not in CLIENT_MODES:
        raise PolicyError(index, "client_sla", f"{mode!r}: expected one of {', '.join(CLIENT_MODES)}", name)
    raw = body.get("targets")
    if not isinstance(raw, Mapping) or not raw:
        raise PolicyError(index, "targets", f"missing: an object with any of {', '.join(TARGET_NAMES)}", name)
    targets = {}
    for target, spec in raw.items():
        if target not in TARGET_NAMES:
            raise PolicyError(index, f"targets.{target}", f"unknown target; expected one of {', '.join(TARGET_NAMES)}",
                              name)
        targets[target] = _target(index, name, target, spec, calendar, ladder, calendars, ladders)
    return Rule(index=index, name=name, when=when, targets=targets, calendar=calendar, ladder=ladder,
                client_sla=mode)


def _conditions(index: int, name: str, when) -> dict[str, frozenset[str]]:
    if not isinstance(when, Mapping):
        raise PolicyError(index, "when", "must be an object of field -> value or [values]", name)
    result = {}
    for key, value in when.items():
        if key not in CONDITION_FIELDS:
            raise PolicyError(index, f"when.{key}", f"unknown field; expected one of {', '.join(CONDITION_FIELDS)}",
                              name)
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str | int) and not isinstance(v, bool) for v in values):
            raise PolicyError(index, f"when.{key}", f"{value!r}: give a text or number, or a non-empty list of them",
                              name)
        result[key] = frozenset(_norm(v) for v in values)
    return result


def _target(index, name, target, spec, calendar, ladder, calendars, ladders) -> Target:
    where = f"targets.{target}"
    if isinstance(spec, str):
        spec = {"within": spec}
    if not isinstance(spec, Mapping):
        raise PolicyError(index, where, "must be a duration (\"PT8H\") or {\"within\": ..., \"calendar\": ...}", name)
    unknown = sorted(set(spec) - {"within", "calendar", "ladder"})
    if unknown:
        raise PolicyError(index, f"{where}.{unknown[0]}", "unknown field; expected within, calendar, ladder", name)
    if "within" not in spec:
        raise PolicyError(index, f"{where}.within", "missing: the target's duration (\"PT8H\")", name)
    try:
        duration = parse_duration(spec["within"])
    except DurationError as error:
        raise PolicyError(index, f"{where}.within", str(error), name) from None
    if not duration.days and not duration.time:
        raise PolicyError(index, f"{where}.within", "must be longer than zero", name)
    own = _calendar(index, name, f"{where}.calendar", spec.get("calendar"), calendars) or calendar
    if own is None:
        raise PolicyError(index, f"{where}.calendar", "missing: name a calendar here, on the rule or the policy", name)
    ladder = _ladder(index, name, f"{where}.ladder", spec.get("ladder"), ladders) or ladder
    return Target(name=target, duration=duration, calendar=own, ladder=ladder, rule=name)


def _calendar(index, name, where, value, calendars) -> BusinessCalendar | None:
    if value is None:
        return None
    if value not in calendars:
        known = ", ".join(sorted(calendars)) or "none loaded"
        raise PolicyError(index, where, f"unknown calendar {value!r}; known: {known}", name)
    return calendars[value]


def _ladder(index, name, where, value, ladders) -> Ladder | None:
    if value is None:
        return None
    if value not in ladders:
        known = ", ".join(sorted(ladders)) or "none defined under `ladders`"
        raise PolicyError(index, where, f"unknown ladder {value!r}; known: {known}", name)
    return ladders[value]


def _norm(value) -> str | None:
    return None if value is None else str(value).strip().casefold()
