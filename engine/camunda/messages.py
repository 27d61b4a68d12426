"""Which deployed process a message starts: a top-level message start event of that name (newest versions)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent

from engine.core import definitions

if TYPE_CHECKING:
    from engine.core.services import Services


def started_by(services: Services, message_name: str) -> list[str]:
    """Keys of the processes whose newest version starts on message `message_name`."""
    keys = []
    with services.read_session() as session:
        for process in definitions.list_processes(session):
            model = definitions.model_for(services, session, process.definition_id)
            for spec in model.spec.task_specs.values():
                definition = getattr(spec, "event_definition", None)
                if isinstance(spec, StartEvent) and isinstance(definition, MessageEventDefinition) \
                        and definition.name == message_name:
                    keys.append(process.key)
                    break
    return keys
