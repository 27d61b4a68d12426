"""Milestones: which audit events mean "acknowledged", "resolved", "escalated", "breached", and so on.

A milestone is reached when an `event` row of one of its kinds is written for one of its elements; "breached" is
read from the `timer` table instead (a fired SLA timer: `fired_at` is set however the timer came to fire, while a
`timer_fired` event is only written when the worker fires it). Which elements count is decided per deployed
process:

1. `PROCESS_MILESTONES` names them for the shipped models (their element ids say what they do, not which
   milestone they are, e.g. complaint_handling acknowledges in `send_acknowledgement`);
2. any other process follows the naming convention: an element whose id starts with one of the milestone's
   `prefixes` (e.g. `acknowledge_suggestion`), checked against the element ids of every deployed version.

docs/reports.md lists both; a process owner adds a model to `PROCESS_MILESTONES` (or passes `overrides`) when its
ids do not follow the convention.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select

from engine.core.bundle import BPMN_NS, parse_xml
from engine.core.db.models import ProcessDefinition

RAN = ("task_completed", "script_ran")


@dataclass(frozen=True)
class Milestone:
    name: str
    meaning: str
    kinds: tuple[str, ...]
    prefixes: tuple[str, ...]
    source: str = "event"


MILESTONES = {m.name: m for m in (
    Milestone("acknowledged", "the client was told the case was received (first time counts)", RAN,
              ("acknowledge", "ack_")),
    Milestone("resolved", "a resolution was given to the client (the latest one counts)", RAN, ("resolve",)),
    Milestone("reopened", "a resolved case was opened again (also: resolved more than once)", RAN, ("reopen",)),
    Milestone("escalated", "the case was escalated (automatically or by hand)", RAN + ("timer_fired",),
              ("escalate",)),
    Milestone("breached", "a service-level deadline passed (an SLA timer fired)", (), ("sla_breach", "breach"),
              source="timer"),
    Milestone("activated", "the client's service was activated (first time counts)", RAN, ("activate",)),
    Milestone("compliance_gate", "a compliance sign-off task was completed (its wait is summed)",
              ("task_completed",), ("compliance",)),
)}

# The shipped models (processes/*.bpmn): milestone -> element ids.
PROCESS_MILESTONES: dict[str, dict[str, tuple[str, ...]]] = {
    "complaint_handling": {
        "acknowledged": ("send_acknowledgement",),
        "resolved": ("inform_resolution",),
        "reopened": ("reopen",),
        "escalated": ("escalate_acknowledgement", "escalate_to_supervisor", "escalate_to_manager"),
        "breached": ("acknowledgement_overdue", "sla_breached", "supervisor_deadline_passed"),
    },
    "client_onboarding": {
        "activated": ("activate_service",),
        "compliance_gate": ("compliance_check",),
    },
    "inquiry": {
        "acknowledged": ("acknowledge_inquiry",),
        "resolved": ("resolve_inquiry",),
        "reopened": ("reopen_inquiry",),
        "escalated": ("escalate_inquiry",),
        "breached": ("breach_answer_general", "breach_answer_technical", "breach_answer_account"),
    },
}

@dataclass(frozen=True)
class MilestoneMap:
    """For each milestone, the (process key, element id) pairs that reach it."""

    pairs: Mapping[str, frozenset[tuple[str, str]]] = field(default_factory=dict)

    def of(self, name: str) -> frozenset[tuple[str, str]]:
        return self.pairs.get(name, frozenset())

    def keys(self, name: str) -> list[str]:
        """The processes that have this milestone."""
        return sorted({key for key, _ in self.of(name)})

    def elements(self, name: str) -> list[str]:
        return sorted({element for _, element in self.of(name)})


# BPMN element ids (not diagram shapes) of deployed versions by checksum: a version never changes,
# so they are read once per version.
_IDS_OF_VERSION: dict[str, frozenset[str]] = {}
_MAX_CACHED = 512


def _element_ids(conn, definition_id: int, checksum: str) -> frozenset[str]:
    if checksum not in _IDS_OF_VERSION:
        files = conn.execute(select(ProcessDefinition.files).where(ProcessDefinition.id == definition_id)).scalar()
        ids: set[str] = set()
        for filename, text in sorted(files.items()):
            if filename.endswith(".bpmn"):
                root = parse_xml(text, filename)
                ids.update(n.get("id") for n in root.iter(f"{{{BPMN_NS}}}*") if n.get("id"))
        if len(_IDS_OF_VERSION) >= _MAX_CACHED:
            _IDS_OF_VERSION.clear()
        _IDS_OF_VERSION[checksum] = frozenset(ids)
    return _IDS_OF_VERSION[checksum]


def _by_convention(element_ids: frozenset[str]) -> dict[str, set[str]]:
    return {name: {e for e in element_ids if e.startswith(m.prefixes)} for name, m in MILESTONES.items()}


def milestone_map(conn, overrides: Mapping[str, Mapping[str, tuple[str, ...]]] | None = None) -> MilestoneMap:
    """The milestones of every deployed process (all versions), by mapping or by naming convention."""
    mapping = {**PROCESS_MILESTONES, **(overrides or {})}
    pairs: dict[str, set[tuple[str, str]]] = {name: set() for name in MILESTONES}
    rows = conn.execute(select(ProcessDefinition.id, ProcessDefinition.key, ProcessDefinition.checksum)).all()
    for definition_id, key, checksum in rows:
        if key in mapping:
            found = {name: set(mapping[key].get(name, ())) for name in MILESTONES}
        else:
            found = _by_convention(_element_ids(conn, definition_id, checksum))
        for name, elements in found.items():
            pairs[name].update((key, element) for element in elements)
    return MilestoneMap({name: frozenset(p) for name, p in pairs.items()})
