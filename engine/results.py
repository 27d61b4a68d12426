"""Plain dataclasses the engine hands to its callers (never SpiffWorkflow objects)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class DeployResult:
    key: str
    version: int
    process_ids: list[str]
    created: bool
    dialect: str = "spiff"  # how the bundle was read (engine/core/dialects.py)
    compat: list[dict[str, Any]] = field(default_factory=list)  # foreign extensions found and their handling

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ProcessView:
    key: str
    version: int
    name: str
    deployed_at: datetime
    deployed_by: str | None
    definition_id: int

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "version": self.version, "name": self.name,
                "deployed_at": _iso(self.deployed_at), "deployed_by": self.deployed_by}


@dataclass(frozen=True)
class TaskView:
    id: str
    instance_id: int
    process_key: str
    element_id: str
    name: str
    lane: str | None
    claimed_by: str | None
    created_at: datetime
    due_at: datetime | None
    form: dict[str, Any] | None
    reference: str | None = None
    label: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "instance_id": self.instance_id, "process_key": self.process_key,
                "element_id": self.element_id, "name": self.name, "lane": self.lane,
                "claimed_by": self.claimed_by, "created_at": _iso(self.created_at), "due_at": _iso(self.due_at),
                "reference": self.reference, "label": self.label, "form": self.form}


@dataclass(frozen=True)
class TimerView:
    id: int
    instance_id: int
    task_id: str
    element_id: str
    name: str
    kind: str
    interrupting: bool
    due_at: datetime
    fired_at: datetime | None
    cancelled_at: datetime | None

    @property
    def pending(self) -> bool:
        return self.fired_at is None and self.cancelled_at is None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "instance_id": self.instance_id, "task_id": self.task_id,
                "element_id": self.element_id, "name": self.name, "kind": self.kind,
                "interrupting": self.interrupting, "due_at": _iso(self.due_at), "fired_at": _iso(self.fired_at),
                "cancelled_at": _iso(self.cancelled_at)}


@dataclass(frozen=True)
class InstanceView:
    id: int
    key: str
    version: int
    status: str
    reference: str | None
    label: str | None
    started_by: str | None
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    lock_version: int
    error: str | None = None
    definition_id: int | None = None  # the stored version it runs (not in `as_dict`: `key` and `version` say it)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "key": self.key, "version": self.version, "status": self.status,
                "reference": self.reference, "label": self.label, "started_by": self.started_by,
                "started_at": _iso(self.started_at), "updated_at": _iso(self.updated_at),
                "ended_at": _iso(self.ended_at), "lock_version": self.lock_version, "error": self.error}


@dataclass(frozen=True)
class InstanceDetail:
    instance: InstanceView
    data: dict[str, Any]
    tasks: list[TaskView]
    timers: list[TimerView]
    events: list[Any]
    completed_elements: list[str] = field(default_factory=list)
    active_elements: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {**self.instance.as_dict(), "data": self.data, "tasks": [t.as_dict() for t in self.tasks],
                "timers": [t.as_dict() for t in self.timers], "events": [e.as_dict() for e in self.events],
                "completed_elements": self.completed_elements, "active_elements": self.active_elements}
