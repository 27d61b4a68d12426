"""Hand-offs: a process waiting at a message event that names `startsProcess` gets that process started.

A model hands work to another process by waiting at an intermediate message catch event whose
`spiffworkflow:properties` name the process to start (`startsProcess`, a process key) and the data variable
holding its start data (`startDataVariable`). After a save leaves an instance waiting there, the engine starts
that process (its start form cleans the data, as for any start) and then delivers the event's message to the
waiting instance with `{"started_reference": ..., "started_instance_id": ...}` as payload.

Starting and delivering are separate transactions. If the start fails (bad data, unknown process) the instance
keeps waiting, a `handoff_failed` event is recorded and `retry_pending()` tries again later. If the process
stops between the two, the retry finds the instance it already started, by the waiting instance's reference
in the new instance's state, instead of opening a second one; models should therefore pass their `reference`
along (as `source_reference`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from sqlalchemy import select

from engine.core import audit, definitions
from engine.core.db.models import ProcessInstance
from engine.core.tasks import properties
from engine.core.users import SYSTEM_ACTOR
from engine.errors import ClientflowError

if TYPE_CHECKING:
    from engine.core.unit_of_work import SaveResult
    from engine.facade import Engine

PROCESS_PROPERTY = "startsProcess"
DATA_PROPERTY = "startDataVariable"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HandoffEvent:
    """A catch event that starts another process."""

    element_id: str
    message: str
    process_key: str
    data_variable: str


def handoff_events(model) -> list[HandoffEvent]:
    """The hand-off events of a built model (main process and its subprocesses)."""
    found = []
    for spec_group in (model.spec, *model.subprocess_specs.values()):
        for spec in spec_group.task_specs.values():
            props = properties(spec)
            definition = getattr(spec, "event_definition", None)
            if props.get(PROCESS_PROPERTY) and isinstance(definition, MessageEventDefinition):
                found.append(HandoffEvent(spec.bpmn_id, definition.name, props[PROCESS_PROPERTY],
                                          props.get(DATA_PROPERTY, "")))
    return found


class Handoffs:
    """A save listener that carries out hand-offs for instances left waiting at a hand-off event."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._events: dict[int, list[HandoffEvent]] = {}

    def __call__(self, results: list[SaveResult]) -> None:
        for result in results:
            # Most models hand nothing off: known from the cached model, without reading the instance.
            if result.status == "running" and self._events.get(result.definition_id, True):
                self.run(result.instance_id)

    def run(self, instance_id: int, *, retry: bool = False) -> list[str]:
        """Start what the instance waits for; returns the references started (or found, on a retry)."""
        with self.engine.read_session() as session:
            row = session.get(ProcessInstance, instance_id)
            if row is None or row.status != "running":
                return []
            events = self._events_of(session, row.definition_id)
            reference, started_at = row.reference, row.started_at
        if not events:
            return []
        detail = self.engine.instance_detail(instance_id)
        started = []
        for event in events:
            if event.element_id not in detail.active_elements:
                continue
            try:
                existing = self._already_started(event, reference, started_at) if retry else None
                target = existing or self.engine.start(event.process_key, _start_data(detail.data, event))
                self.engine.send_message(event.message, {"reference": reference},
                                         {"started_reference": target.reference, "started_instance_id": target.id})
            except ClientflowError as err:
                log.warning("hand-off from instance %s to %s failed: %s", instance_id, event.process_key, err)
                self._record_failure(instance_id, event, err)
                continue
            started.append(target.reference)
        return started

    def retry_pending(self) -> list[str]:
        """Retry every running instance waiting at a hand-off event (for a periodic sweep)."""
        started = []
        with self.engine.read_session() as session:
            rows = session.execute(select(ProcessInstance.id, ProcessInstance.definition_id)
                                   .where(ProcessInstance.status == "running")).all()
            waiting = [i for i, definition_id in rows if self._events_of(session, definition_id)]
        for instance_id in waiting:
            started += self.run(instance_id, retry=True)
        return started

    def _events_of(self, session, definition_id: int) -> list[HandoffEvent]:
        if definition_id not in self._events:
            model = definitions.model_for(self.engine.services, session, definition_id)
            self._events[definition_id] = handoff_events(model)
        return self._events[definition_id]

    def _already_started(self, event: HandoffEvent, reference: str, started_at):
        with self.engine.read_session() as session:
            row = session.scalar(select(ProcessInstance).where(
                ProcessInstance.process_key == event.process_key, ProcessInstance.started_at >= started_at,
                ProcessInstance.state.contains(f'"{reference}"')).order_by(ProcessInstance.id).limit(1))
            return self.engine.instance(row.id) if row is not None else None

    def _record_failure(self, instance_id: int, event: HandoffEvent, err: Exception) -> None:
        with self.engine.write_session.begin() as session:
            audit.record(session, "handoff_failed", at=self.engine.clock.now(), instance_id=instance_id,
                         actor=SYSTEM_ACTOR, element_id=event.element_id, process=event.process_key,
                         message=str(err))


def _start_data(data: dict, event: HandoffEvent) -> dict:
    value = data.get(event.data_variable) if event.data_variable else None
    return dict(value) if isinstance(value, dict) else {}
