"""Python handlers for Camunda service tasks, registered by name (the Java class, or the bean of an expression).

A handler is `handler(variables: dict) -> dict | None`: it reads the instance's variables and returns the
variables to set (for `camunda:expression` with `camunda:resultVariable`, `{"result": value}` sets that variable).
It may raise `BpmnError(code, message)` to throw a BPMN error that a boundary event catches; any other exception
makes the instance an incident (status `error`, naming the element), retried from the operations view.

Handlers come from the `clientflow.camunda_handlers` entry-point group (name = handler name) and from the
`CAMUNDA_HANDLERS` setting (`CLIENTFLOW_CAMUNDA_HANDLERS`): entries separated by commas or new lines, each
`name=package.module:function` or a module `package.module` whose `CAMUNDA_HANDLERS` dict maps names to functions.
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
        """Register the handlers a `CAMUNDA_HANDLERS` setting names (commas or new lines between entries).

        An entry is `name=package.module:function` (one handler under that name), or `package.module` (every
        handler in the module's `CAMUNDA_HANDLERS` dict, name -> function). Nothing is registered when an entry
        is wrong: the error names the entry."""
        found: dict[str, Handler] = {}
        for entry in (part.strip() for part in setting.replace("\n", ",").split(",")):
            if entry:
                found.update(_handlers_of(entry))
        for name, handler in found.items():
            self.register(name, handler)


def _handlers_of(entry: str) -> dict[str, Handler]:
    name, equals, target = (part.strip() for part in entry.partition("="))
    module_name, colon, function = (equals and target or entry).partition(":")
    if (equals and (not name or not module_name or not function)) or (not equals and colon):
        raise InvalidInput(f"CAMUNDA_HANDLERS entry {entry!r} must be name=package.module:function or "
                           "package.module (with a CAMUNDA_HANDLERS dict)")
    try:
        module = importlib.import_module(module_name)
        if equals:
            handlers = {name: getattr(module, function)}
        else:
            handlers = module.CAMUNDA_HANDLERS
            if not isinstance(handlers, dict):
                raise InvalidInput(f"CAMUNDA_HANDLERS entry {entry!r}: {module_name}.CAMUNDA_HANDLERS must be a "
                                   "dict of name -> function")
    except (ImportError, AttributeError) as err:
        raise InvalidInput(f"CAMUNDA_HANDLERS entry {entry!r}: {err}") from err
    for handler_name, handler in handlers.items():
        if not isinstance(handler_name, str) or not callable(handler):
            raise InvalidInput(f"CAMUNDA_HANDLERS entry {entry!r}: {handler_name!r} is not a name with a function")
    return handlers
