"""Camunda data mappings: `camunda:inputOutput` on activities and events, `camunda:in`/`camunda:out` on call activities.

Read from the XML into plain values (`read_value`, `read_parameters`, `read_call_mappings`) when the model is parsed,
and applied at run time (`apply_inputs`, `apply_outputs`, `call_inputs`, `call_outputs`) as Camunda 7 does:

- an input parameter is a variable local to the element: it is set when the element starts and, when the element
  ends, the variable goes back to the value it had outside (or away, when it had none);
- an output parameter is evaluated when the element ends, with the inputs still visible, and set outside;
- a value is text (a constant, or JUEL when it holds `${...}`/`#{...}`), a `camunda:list`, a `camunda:map` or a
  Python `camunda:script` (an expression's value, or for a longer script the variable it assigns under the
  parameter's name); an empty parameter is null;
- a call activity passes the called process only what its `camunda:in`s name (`source`, `sourceExpression`,
  `variables="all"`, `businessKey`), and takes back only what its `camunda:out`s name.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from lxml import etree

from engine.camunda import el

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
Value = dict[str, Any]  # {"null": True} | {"const": str} | {"el": str} | {"list": [...]} | {"map": [[k, v]]} | ...


class MappingError(Exception):
    """A mapping that cannot be read (at deploy) or evaluated (at run time); the message names the parameter."""


def local_name(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def read_value(node: etree._Element) -> Value:
    """The value held by an inputParameter, outputParameter, list value or map entry."""
    children = [child for child in node if isinstance(child.tag, str)]
    if not children:
        text = (node.text or "").strip()
        if not text:
            return {"null": True}
        return {"el": text} if el.is_expression(text) else {"const": text}
    if len(children) > 1:
        raise MappingError(f"{local_name(node.tag)} {node.get('name') or node.get('key') or ''} holds more than one "
                           "value".replace("  ", " "))
    child, kind = children[0], local_name(children[0].tag)
    if kind == "list":
        return {"list": [read_value(item) for item in child if local_name(item.tag) == "value"]}
    if kind == "map":
        entries = []
        for entry in child:
            if local_name(entry.tag) == "entry":
                if entry.get("key") is None:
                    raise MappingError("a camunda:entry needs a key")
                entries.append([entry.get("key"), read_value(entry)])
        return {"map": entries}
    if kind == "script":  # the dialect has refused every script but inline Python (dialect.py)
        return {"python": (child.text or "").strip()}
    raise MappingError(f"camunda:{kind} is not a value (text, camunda:list, camunda:map or camunda:script)")


def read_parameters(node: etree._Element) -> tuple[list[list[Any]], list[list[Any]]]:
    """The ([name, value], ...) input and output parameters of an element's camunda:inputOutput."""
    inputs: list[list[Any]] = []
    outputs: list[list[Any]] = []
    for io in extension_elements(node, "inputOutput"):
        for parameter in io:
            kind = local_name(parameter.tag)
            if kind not in ("inputParameter", "outputParameter"):
                continue
            name = parameter.get("name") or ""
            if not name.strip():
                raise MappingError(f"a camunda:{kind} needs a name")
            (inputs if kind == "inputParameter" else outputs).append([name, read_value(parameter)])
    return inputs, outputs


def read_call_mappings(node: etree._Element) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The camunda:in and camunda:out mappings of a call activity, as attribute dicts."""
    mappings: dict[str, list[dict[str, str]]] = {"in": [], "out": []}
    for mapping in extension_elements(node, "in", "out"):
        kind = local_name(mapping.tag)
        attributes = {key: value for key, value in mapping.attrib.items() if not key.startswith("{")}
        if not ({"source", "sourceExpression", "variables", "businessKey"} & attributes.keys()):
            raise MappingError(f"camunda:{kind} needs source, sourceExpression, variables=\"all\" or businessKey")
        if ("source" in attributes or "sourceExpression" in attributes) and not attributes.get("target"):
            raise MappingError(f"camunda:{kind} {attributes.get('source') or attributes.get('sourceExpression')} "
                               "needs a target")
        if "variables" in attributes and attributes["variables"] != "all":
            raise MappingError(f"camunda:{kind} variables={attributes['variables']!r}: only \"all\" is known")
        if "businessKey" in attributes and kind == "out":
            raise MappingError("camunda:out cannot map a businessKey")
        mappings[kind].append(attributes)
    return mappings["in"], mappings["out"]


def extension_elements(node: etree._Element, *names: str) -> list[etree._Element]:
    """The element's own camunda:<name> extensions (not those of elements nested in it), in document order."""
    extensions = node.find(f"{{{BPMN_NS}}}extensionElements")
    tags = {f"{{{CAMUNDA_NS}}}{name}" for name in names}
    return [child for child in (extensions if extensions is not None else ()) if child.tag in tags]


def business_key(data: dict[str, Any]) -> Any:
    return data.get("businessKey") or data.get("reference")


def evaluate(value: Value, data: dict[str, Any], name: str, python: Any, kind: str = "input") -> Any:
    """The value of parameter `name` over `data`; `python(script, name)` runs a Python script (in the sandbox)."""
    if "null" in value:
        return None
    if "const" in value:
        return value["const"]
    if "el" in value:
        try:
            return el.evaluate(value["el"], data, business_key(data))
        except el.ELError as err:
            raise MappingError(f"{kind} parameter {name!r}: {err}") from err
    if "list" in value:
        return [evaluate(item, data, name, python, kind) for item in value["list"]]
    if "map" in value:
        return {key: evaluate(item, data, name, python, kind) for key, item in value["map"]}
    return python(value["python"], name)


def apply_inputs(parameters: list[list[Any]], data: dict[str, Any], python: Any) -> None:
    """Set the input parameters into the element's variables, in order (a later one sees the earlier ones)."""
    for name, value in parameters:
        data[name] = evaluate(value, data, name, python)


def apply_outputs(inputs: list[list[Any]], outputs: list[list[Any]], data: dict[str, Any],
                  outside: dict[str, Any], python: Any) -> None:
    """Evaluate the outputs with the inputs still visible, then drop the inputs (back to their `outside` values)
    and set the outputs."""
    values = [(name, evaluate(value, data, name, python, "output")) for name, value in outputs]
    for name, _value in inputs:
        if name in outside:
            data[name] = deepcopy(outside[name])
        else:
            data.pop(name, None)
    for name, value in values:
        data[name] = value


def call_inputs(mappings: list[dict[str, str]], data: dict[str, Any]) -> dict[str, Any]:
    """The variables a call activity passes to the process it calls."""
    return _mapped(mappings, data, "camunda:in")


def call_outputs(mappings: list[dict[str, str]], called: dict[str, Any]) -> dict[str, Any]:
    """The variables a call activity takes back from the called process's final variables."""
    return _mapped(mappings, called, "camunda:out")


def _mapped(mappings: list[dict[str, str]], data: dict[str, Any], what: str) -> dict[str, Any]:
    passed: dict[str, Any] = {}
    for mapping in mappings:
        try:
            if mapping.get("variables") == "all":
                passed.update(deepcopy(data))
            if "businessKey" in mapping:
                passed["businessKey"] = el.evaluate(mapping["businessKey"], data, business_key(data)) \
                    if el.is_expression(mapping["businessKey"]) else mapping["businessKey"]
            if "source" in mapping:
                passed[mapping["target"]] = deepcopy(data.get(mapping["source"]))
            elif "sourceExpression" in mapping:
                passed[mapping["target"]] = el.evaluate(mapping["sourceExpression"], data, business_key(data))
        except el.ELError as err:
            source = mapping.get("sourceExpression") or mapping.get("businessKey")
            raise MappingError(f"{what} {source}: {err}") from err
    return passed
