"""Driving one shipped-process instance through the engine facade in tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from engine.core.db.models import Notification

PROCESSES = Path(__file__).resolve().parents[2] / "processes"


class Flow:
    """Drives one instance through the engine facade, restoring it from the database before every step."""

    def __init__(self, engine, instance_id: int):
        self.engine, self.id = engine, instance_id

    def fresh(self) -> None:
        self.engine.live.clear()

    def open_tasks(self) -> list:
        self.fresh()
        return self.engine.tasks(instance_id=self.id)

    def elements(self) -> list[str]:
        return sorted(t.element_id for t in self.open_tasks())

    def task(self, element_id: str):
        matches = [t for t in self.open_tasks() if t.element_id == element_id]
        assert matches, f"no open {element_id!r}; open: {self.elements()}"
        return matches[0]

    def complete(self, element_id: str, data: dict, by: str):
        task = self.task(element_id)
        self.fresh()
        return self.engine.complete(task.id, data, by=by)

    def detail(self):
        self.fresh()
        return self.engine.instance_detail(self.id)

    @property
    def data(self) -> dict:
        return self.detail().data

    @property
    def status(self) -> str:
        return self.engine.instance(self.id).status

    def pending_timers(self) -> dict[str, datetime]:
        return {t.element_id: t.due_at for t in self.engine.timers(self.id) if t.pending}

    def mails(self, template: str | None = None) -> list[tuple[str, str, dict]]:
        with self.engine.read_session() as session:
            rows = session.scalars(select(Notification).where(Notification.instance_id == self.id)
                                   .order_by(Notification.id))
            found = [(n.template, n.recipient, dict(n.payload)) for n in rows]
        return [m for m in found if template is None or m[0] == template]

    def snapshot(self) -> tuple[int, dict]:
        """What must not change when a submission is refused."""
        detail = self.detail()
        return detail.instance.lock_version, detail.data


def advance_and_fire(engine, clock, **delta) -> int:
    clock.advance(**delta)
    engine.live.clear()
    return engine.fire_due_timers()
