"""The Camunda use cases the facade offers (`Engine.camunda`): external tasks and the handler registry."""

from __future__ import annotations

from typing import Any

from engine.camunda import continuations, external, messages
from engine.camunda.dialect import CamundaDialect
from engine.camunda.el import JuelLanguage
from engine.camunda.handlers import Handlers
from engine.camunda.program import CamundaPrograms
from engine.camunda.service_task import HANDLERS_EXTENSION
from engine.core import actions
from engine.core.dialects import dialects_of
from engine.core.hooks import hooks_of
from engine.core.languages import environment_of, register_language, register_program
from engine.errors import MessageNotCorrelated
from engine.results import InstanceView


class Camunda:
    """Camunda 7 compatibility on one engine: registered once on its `Services`."""

    def __init__(self, services: Any):
        self.services = services
        self.handlers = Handlers()
        self.handlers.load_entry_points()
        dialects_of(services).register(CamundaDialect())
        register_language(services.script_engine, JuelLanguage())
        register_program(services.script_engine, CamundaPrograms())
        environment_of(services.script_engine).extensions[HANDLERS_EXTENSION] = self.handlers
        hooks_of(services).row_writers.append(external.write_rows)

    def fetch_and_lock(self, worker_id: str, max_tasks: int, topics: list[dict[str, Any]]) -> list[external.LockedTask]:
        return external.fetch_and_lock(self.services, worker_id, max_tasks, topics)

    def has_waiting(self, topics: list[str]) -> bool:
        return external.has_waiting(self.services, topics)

    def complete(self, task_id: str, worker_id: str, variables: dict[str, Any]) -> None:
        external.complete(self.services, task_id, worker_id, variables)

    def failure(self, task_id: str, worker_id: str, message: str, details: str | None, retries: Any,
                retry_timeout_ms: Any) -> None:
        external.failure(self.services, task_id, worker_id, message, details, retries, retry_timeout_ms)

    def bpmn_error(self, task_id: str, worker_id: str, code: str, message: str | None,
                   variables: dict[str, Any]) -> None:
        external.bpmn_error(self.services, task_id, worker_id, code, message, variables)

    def extend_lock(self, task_id: str, worker_id: str, new_duration_ms: Any) -> None:
        external.extend_lock(self.services, task_id, worker_id, new_duration_ms)

    def lock(self, task_id: str, worker_id: str, lock_ms: Any) -> None:
        external.lock(self.services, task_id, worker_id, lock_ms)

    def unlock(self, task_id: str) -> None:
        external.unlock(self.services, task_id)

    def due_continuations(self, limit: int = 1000) -> list[str]:
        """Ids of the asynchronous continuations the worker should run now."""
        return continuations.due(self.services, limit)

    def continue_async(self, task_id: str) -> str:
        """Run one asynchronous continuation (the worker's job): 'continued', 'retrying', 'incident' or 'done'."""
        return continuations.continue_async(self.services, task_id)

    def external_tasks(self, topic: str | None = None) -> list[dict[str, Any]]:
        return external.open_tasks(self.services, topic)

    def correlate(self, name: str, variables: dict[str, Any], business_key: str | None, by: Any
                  ) -> tuple[InstanceView, bool]:
        """Deliver message `name` to the instance waiting for it (with that business key, if given), else start
        the process a message start event of that name begins (Camunda's `/message`). Returns the instance and
        whether it was started."""
        correlation = {"businessKey": business_key} if business_key else {}
        try:
            return actions.send_message(self.services, name, correlation, variables, by), False
        except MessageNotCorrelated:
            keys = messages.started_by(self.services, name)
            if len(keys) != 1:
                raise
        data = {**variables, **({"businessKey": business_key} if business_key else {})}
        started = actions.start(self.services, keys[0], data, by)
        return actions.send_message(self.services, name, {"reference": started.reference}, variables, by), True
