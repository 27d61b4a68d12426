"""Camunda execution listeners (start, end, take) and task listeners (create, complete): reading and running them.

A listener is an expression (JUEL: `${execution.setVariable('x', 1)}`; a bean call runs the handler registered
under the bean's name), a delegate expression or a class (the registered handler of that name), or an inline
Python `camunda:script` (run in the sandbox). A handler takes the variables and returns those to set, as for
service tasks (handlers.py). There is no worker to wait for: a listener whose handler is not registered fails the
instance, naming the element and the handler.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from engine.camunda import el
from engine.camunda.mapping import business_key, local_name
from engine.camunda.service_task import bean_of

EXECUTION_EVENTS = ("start", "end", "take")
TASK_EVENTS = ("create", "complete")
KINDS = ("class", "delegateExpression", "expression")
Listener = dict[str, str]  # {"event", "kind": class|delegateExpression|expression|python, "target"}


class ListenerError(Exception):
    """A listener that cannot be read (at deploy) or run (at run time)."""


def event_of(node: etree._Element) -> str:
    """The event a listener element listens to (a flow's listeners listen to `take`)."""
    return node.get("event") or ("take" if local_name(node.getparent().getparent().tag) == "sequenceFlow" else "")


def runs(node: etree._Element) -> bool:
    """Whether a listener element's event is one run here (the compat report names the others)."""
    return event_of(node) in (EXECUTION_EVENTS if local_name(node.tag) == "executionListener" else TASK_EVENTS)


def read(node: etree._Element) -> Listener | None:
    """One camunda:executionListener or camunda:taskListener element; None for an event not run here."""
    which, event = local_name(node.tag), event_of(node)
    if not runs(node):
        return None
    fields = [f.get("name") for f in node if local_name(f.tag) == "field"]
    if fields:
        raise ListenerError(f"camunda:{which}: field injection ({', '.join(map(str, fields))}) is not supported; "
                            "read the values from variables in the handler")
    found = [(kind, node.get(kind)) for kind in KINDS if node.get(kind)]
    scripts = [child for child in node if local_name(child.tag) == "script"]
    if scripts:  # the dialect has refused every script but inline Python (dialect.py)
        found.append(("python", (scripts[0].text or "").strip()))
    if len(found) != 1:
        raise ListenerError(f"camunda:{which} needs exactly one of class, delegateExpression, expression or a "
                            "Python camunda:script")
    kind, target = found[0]
    if kind == "delegateExpression" and bean_of(target) is None:
        raise ListenerError(f"camunda:{which} delegateExpression {target!r} must name a bean (e.g. ${{myListener}})")
    return {"event": event, "kind": kind, "target": target}


def handler_name(listener: Listener) -> str | None:
    """The registry name serving the listener, None for a plain expression or a script."""
    if listener["kind"] == "class":
        return listener["target"]
    if listener["kind"] in ("delegateExpression", "expression"):
        return bean_of(listener["target"])
    return None


def run(listener: Listener, data: dict[str, Any], handlers: Any, python: Any) -> None:
    """Run one listener over `data` (changed in place); `python(script)` runs a script in the sandbox."""
    if listener["kind"] == "python":
        python(listener["target"])
        return
    name = handler_name(listener)
    if name is None:
        try:
            el.evaluate(listener["target"], data, business_key(data))
        except el.ELError as err:
            raise ListenerError(f"{listener['event']} listener {listener['target']}: {err}") from err
        return
    handler = handlers.get(name) if handlers is not None else None
    if handler is None:
        raise ListenerError(f"{listener['event']} listener: no handler is registered under {name!r} "
                            "(CAMUNDA_HANDLERS or the clientflow.camunda_handlers entry points)")
    changes = handler(dict(data))
    if changes:
        data.update(changes)
