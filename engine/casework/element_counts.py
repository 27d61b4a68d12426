"""Where the open cases of one process version stand: per element, the cases waiting at a task or a timer, or
stopped there on an error (the operations console's diagram)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, literal, select, union_all

from engine.core.db.models import HumanTask, ProcessInstance, Timer

PI, TASK, TIMER = ProcessInstance.__table__, HumanTask.__table__, Timer.__table__
OPEN = ("running", "error")


@dataclass(frozen=True)
class ElementCounts:
    """Open cases of one version: per element id, how many wait at a task or timer (`waiting`) or failed there."""

    key: str
    version: int
    open_cases: int
    waiting: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # element id -> name, for the list beside the diagram

    def places(self) -> list[tuple[str, str, int, int]]:
        """(element id, name, waiting, failed) of each element holding open cases, most cases first."""
        ids = set(self.waiting) | set(self.failed)
        rows = [(i, self.names.get(i) or "Step", self.waiting.get(i, 0), self.failed.get(i, 0)) for i in ids]
        return sorted(rows, key=lambda row: (-row[2] - row[3], row[1].lower()))

    def as_dict(self) -> dict:
        return {"key": self.key, "version": self.version, "open_cases": self.open_cases,
                "waiting": self.waiting, "failed": self.failed}  # what the diagram's overlays draw


def element_counts(conn, key: str, version: int, definition_id: int,
                   names: dict[str, str] | None = None) -> ElementCounts:
    """The counts of one version in one grouped query (plus the count of its open cases)."""
    of_version = PI.c.definition_id == definition_id
    at_tasks = (select(TASK.c.element_id.label("element_id"), TASK.c.instance_id, literal("waiting").label("kind"))
                .join(PI, PI.c.id == TASK.c.instance_id).where(of_version, PI.c.status.in_(OPEN)))
    at_timers = (select(TIMER.c.element_id, TIMER.c.instance_id, literal("waiting"))
                 .join(PI, PI.c.id == TIMER.c.instance_id)
                 .where(of_version, PI.c.status.in_(OPEN), TIMER.c.fired_at.is_(None), TIMER.c.cancelled_at.is_(None)))
    at_errors = (select(PI.c.error_element_id, PI.c.id, literal("failed"))
                 .where(of_version, PI.c.status == "error", PI.c.error_element_id.is_not(None)))
    places = union_all(at_tasks, at_timers, at_errors).subquery()
    # A case counts once per element, though a multi-instance task may hold several rows for it.
    grouped = (select(places.c.element_id, places.c.kind, func.count(places.c.instance_id.distinct()))
               .group_by(places.c.element_id, places.c.kind))
    found: dict[str, dict[str, int]] = {"waiting": {}, "failed": {}}
    for element_id, kind, count in conn.execute(grouped):
        found[kind][element_id] = count
    open_cases = conn.scalar(select(func.count()).select_from(PI).where(of_version, PI.c.status.in_(OPEN)))
    return ElementCounts(key, version, open_cases or 0, found["waiting"], found["failed"], names or {})
