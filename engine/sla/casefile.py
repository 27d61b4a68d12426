"""A process's SLA file (`slaPolicyFilename` in its bundle): the policy plus how the engine reads the case.

The policy (docs/sla.md, "Policies") says which targets apply; the rest of the file says which BPMN elements
meet or reopen a target, which data value is the case status (compared with `pause_on`), which conditions make
a case urgent (notified at any hour), and where the client's agreed targets are.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .calendar import BusinessCalendar
from .errors import PolicyError
from .policies import CLIENT_KEYS, CONDITION_FIELDS, Policy, load_policy
from .targets import TARGET_NAMES

_FIELDS = {"description", "policy", "status", "met_by", "reopen_by", "urgent", "digest_minutes", "staff_mail"}
# Mail to staff about a case's SLA: sent in business hours unless the case is urgent, bursts as one digest.
STAFF_MAIL = frozenset({"sla_warning", "escalation"})
_TEMPLATE = re.compile(r"[a-z0-9_]{1,80}")


@dataclass(frozen=True)
class CaseSla:
    """What the engine needs to run a process's clocks."""

    policy: Policy
    status: str | None = None
    met_by: Mapping[str, frozenset[str]] = field(default_factory=dict)
    reopen_by: Mapping[str, frozenset[str]] = field(default_factory=dict)
    urgent: Mapping[str, frozenset[str]] = field(default_factory=dict)
    digest_minutes: int = 15
    staff_mail: frozenset[str] = STAFF_MAIL

    def is_urgent(self, case_data: Mapping) -> bool:
        """Whether any urgent condition holds (urgent cases are notified outside business hours too)."""
        return any(_norm(case_data.get(key)) in values for key, values in self.urgent.items())

    def case_status(self, case_data: Mapping) -> str | None:
        value = case_data.get(self.status) if self.status else None
        return None if value is None else str(value)


def load_case_sla(document: Mapping, calendars: Mapping[str, BusinessCalendar]) -> CaseSla:
    """Validate a process SLA file; errors name the field (`PolicyError`, a `ValueError`)."""
    if not isinstance(document, Mapping):
        raise PolicyError(None, "(document)", "an SLA file must be a JSON object with a `policy`")
    unknown = sorted(set(document) - _FIELDS)
    if unknown:
        raise PolicyError(None, unknown[0], f"unknown field; expected one of {', '.join(sorted(_FIELDS))}")
    if "policy" not in document:
        raise PolicyError(None, "policy", "missing: the SLA policy (rules, targets, ladders)")
    policy = load_policy(document["policy"], calendars)
    status = document.get("status")
    if status is not None and (not isinstance(status, str) or not status):
        raise PolicyError(None, "status", "must name the process data value holding the case status")
    digest = document.get("digest_minutes", 15)
    if isinstance(digest, bool) or not isinstance(digest, int) or digest < 1:
        raise PolicyError(None, "digest_minutes", f"{digest!r}: give a whole number of minutes, at least 1")
    staff_mail = document.get("staff_mail", sorted(STAFF_MAIL))
    if not isinstance(staff_mail, list) or not all(isinstance(t, str) and _TEMPLATE.fullmatch(t) for t in staff_mail):
        raise PolicyError(None, "staff_mail", f"{staff_mail!r}: give a list of mail template names, such as "
                                              "[\"sla_warning\", \"escalation\"]")
    return CaseSla(policy=policy, status=status, met_by=_elements(document, "met_by"),
                   reopen_by=_elements(document, "reopen_by"), urgent=_urgent(document.get("urgent", {})),
                   digest_minutes=digest, staff_mail=frozenset(staff_mail))


def client_agreement(case_data: Mapping) -> dict:
    """The agreed targets carried in the case data (`sla_response_hours`, ...), empty values left out."""
    keys = set(CLIENT_KEYS) | {f"sla_{key}" for key in CLIENT_KEYS}
    return {key: value for key, value in case_data.items() if key in keys and value not in (None, "")}


def _elements(document: Mapping, name: str) -> dict[str, frozenset[str]]:
    value = document.get(name, {})
    if not isinstance(value, Mapping):
        raise PolicyError(None, name, "must be an object of target -> [BPMN element ids]")
    result = {}
    for target, elements in value.items():
        if target not in TARGET_NAMES:
            raise PolicyError(None, f"{name}.{target}", f"unknown target; expected one of {', '.join(TARGET_NAMES)}")
        if isinstance(elements, str):
            elements = [elements]
        if not isinstance(elements, list) or not elements or not all(isinstance(e, str) and e for e in elements):
            raise PolicyError(None, f"{name}.{target}", "must be a non-empty list of BPMN element ids")
        result[target] = frozenset(elements)
    return result


def _urgent(value) -> dict[str, frozenset[str]]:
    if not isinstance(value, Mapping):
        raise PolicyError(None, "urgent", "must be an object of field -> [values], e.g. {\"severity\": [\"critical\"]}")
    result = {}
    for key, values in value.items():
        if key not in CONDITION_FIELDS:
            raise PolicyError(None, f"urgent.{key}", f"unknown field; expected one of {', '.join(CONDITION_FIELDS)}")
        values = values if isinstance(values, list) else [values]
        if not values or not all(isinstance(v, str | int) and not isinstance(v, bool) for v in values):
            raise PolicyError(None, f"urgent.{key}", f"{values!r}: give a text or a non-empty list of texts")
        result[key] = frozenset(_norm(v) for v in values)
    return result


def _norm(value) -> str | None:
    return None if value is None else str(value).strip().casefold()
