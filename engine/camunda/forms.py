"""`camunda:formField`s as a JSON Schema form plus UI schema, so engine/forms/ renders and validates them.

Types: string, long (integer), boolean, date (an ISO date), enum (with its `camunda:value` options); constraints:
required, min, max, minlength, maxlength, readonly. Anything else is refused, naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
TYPES = {"string": {"type": "string"}, "long": {"type": "integer"}, "boolean": {"type": "boolean"},
         "date": {"type": "string", "format": "date"}, "enum": {"type": "string"}}
NUMBER_CONSTRAINTS = {"min": "minimum", "max": "maximum", "minlength": "minLength", "maxlength": "maxLength"}


def _tag(name: str) -> str:
    return f"{{{CAMUNDA_NS}}}{name}"


def _default(kind: str, text: str) -> Any:
    if kind == "long":
        return int(text)
    if kind == "boolean":
        return text.strip().lower() == "true"
    return text


def form_of(form_data: etree._Element, task_id: str,
            refuse: Callable[[etree._Element, str], None]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (schema, ui schema) of a `camunda:formData` element; `refuse(node, message)` raises."""
    schema: dict[str, Any] = {"type": "object", "title": task_id, "properties": {}, "required": []}
    ui: dict[str, Any] = {}
    for field in form_data.iter(_tag("formField")):
        name, kind = field.get("id"), field.get("type") or "string"
        if not name or not name.isidentifier():
            refuse(field, f"form field id {name!r} must be a variable name")
        if kind not in TYPES:
            refuse(field, f"form field {name!r} has type {kind!r}; supported: {', '.join(TYPES)}")
        prop: dict[str, Any] = {**TYPES[kind], "title": field.get("label") or name}
        if kind == "enum":
            options = [(v.get("id"), v.get("name") or v.get("id")) for v in field.iter(_tag("value"))]
            if not options:
                refuse(field, f"enum form field {name!r} has no camunda:value options")
            prop["enum"] = [o[0] for o in options]
            ui.setdefault(name, {})["ui:enumNames"] = [o[1] for o in options]
        if field.get("defaultValue") not in (None, "") and "${" not in field.get("defaultValue"):
            try:
                prop["default"] = _default(kind, field.get("defaultValue"))
            except ValueError:
                refuse(field, f"form field {name!r}: default {field.get('defaultValue')!r} is not a {kind}")
        for constraint in field.iter(_tag("constraint")):
            _constrain(schema, ui, prop, name, kind, constraint, refuse)
        schema["properties"][name] = prop
    if not schema["required"]:
        del schema["required"]
    return schema, ui


def _constrain(schema, ui, prop, name, kind, constraint, refuse) -> None:
    rule, config = constraint.get("name"), constraint.get("config")
    if rule == "required":
        schema["required"].append(name)
    elif rule == "readonly":
        ui.setdefault(name, {})["ui:widget"] = "readonly"
    elif rule in NUMBER_CONSTRAINTS:
        wanted = ("long",) if rule in ("min", "max") else ("string",)
        if kind not in wanted:
            refuse(constraint, f"form field {name!r}: constraint {rule} applies to {wanted[0]} fields")
        try:
            prop[NUMBER_CONSTRAINTS[rule]] = int(config)
        except (TypeError, ValueError):
            refuse(constraint, f"form field {name!r}: constraint {rule} needs a whole number, not {config!r}")
    else:
        refuse(constraint, f"form field {name!r}: constraint {rule!r} is not supported "
                           f"(required, readonly, min, max, minlength, maxlength)")
