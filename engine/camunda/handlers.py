"""Python handlers for Camunda service tasks, registered by name (the Java class, or the bean of an expression).

A handler is `handler(variables: dict) -> dict | None`: it reads the instance's variables and returns the
variables to set (for `camunda:expression` with `camunda:resultVariable`, `{"result": value}` sets that variable).
It may raise `BpmnError(code, message)` to throw a BPMN error that a boundary event catches; any other exception
makes the instance an incident (status `error`, naming the element), retried from the operations view.

Handlers come from the `clientflow.camunda_handlers` entry-point group (name = handler name) and from the
`CAMUNDA_HANDLERS` setting: `name=package.module:function` pairs separated by commas or new lines.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from engine.errors import InvalidInput

Handler = Callable[[dict[str, Any]], "dict[str, Any] | None"]
ENTRY_POINT_GROUP = "clientflow.camunda_handlers"


class BpmnError(Exception):
    """Raised by a handler (or reported by a worker) to throw a BPMN error with `code`."""

    def __init__(self, code: str, message: str = "", variables: dict[str, Any] | None = None):
        super().__init__(message or code)
        self.code, self.message, self.variables = code, message, variables or {}


class Handlers:
    """The handlers of one engine, by name."""

    def __init__(self) -> None:
        self._items: dict[str, Handler] = {}

    def register(self, name: str, handler: Handler) -> None:
        if not callable(handler):
            raise InvalidInput(f"handler {name!r} is not callable")
        self._items[name] = handler

    def get(self, name: str) -> Handler | None:
        return self._items.get(name)

    @property
    def names(self) -> list[str]:
        return sorted(self._items)

    def load_entry_points(self) -> None:
        for point in entry_points(group=ENTRY_POINT_GROUP):
            self.register(point.name, point.load())

    def load_setting(self, setting: str) -> None:
        """Register `name=module:function` pairs (commas or new lines between them)."""
        for pair in setting.replace("\n", ",").split(","):
            if not pair.strip():
                continue
            name, _, target = pair.partition("=")
            module_name, _, function = target.strip().partition(":")
            if not name.strip() or not module_name or not function:
                raise InvalidInput(f"CAMUNDA_HANDLERS entry {pair.strip()!r} must be name=package.module:function")
            try:
                handler = getattr(importlib.import_module(module_name), function)
            except (ImportError, AttributeError) as err:
                raise InvalidInput(f"CAMUNDA_HANDLERS entry {pair.strip()!r}: {err}") from err
            self.register(name.strip(), handler)
