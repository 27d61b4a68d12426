"""The JSON Schema subset task forms may use: checked at deploy time, with defaults taken from process data.

A form file is untrusted input written by a process owner, so anything outside the subset is refused when the
model is deployed instead of failing when a user opens the task.
"""

from __future__ import annotations

import keyword
import re
from datetime import date, datetime
from typing import Any

from wtforms import Form

SCALAR_TYPES = ("string", "integer", "number", "boolean")
FORMATS = ("email", "date", "date-time")
WIDGETS = ("textarea", "radio", "select", "checkbox", "hidden", "readonly")
ANNOTATIONS = {"title", "description", "$comment", "examples"}
ROOT_KEYWORDS = {"type", "properties", "required", "additionalProperties", "$schema", "$id"} | ANNOTATIONS
KEYWORDS = {
    "string": {"minLength", "maxLength", "pattern", "enum", "format", "default"},
    "integer": {"minimum", "maximum", "enum", "default"},
    "number": {"minimum", "maximum", "enum", "default"},
    "boolean": {"default"},
    "array": {"items", "minItems", "maxItems", "uniqueItems", "default"},
    "object": {"properties", "required", "additionalProperties"},
}
EXTENSIONS = {"x-personal", "x-sensitive", "x-searchable", "x-required-if"}
UI_FIELD_KEYWORDS = {"ui:widget", "ui:help", "ui:placeholder", "ui:enumNames"}
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
# Names WTForms uses on every form instance; a field of that name would shadow them.
RESERVED_NAMES = {n for n in dir(Form) if not n.startswith("_")} | {"csrf_token", "meta"}
# A default may name process data: "{{ customer_name }}" or "{{ client.email }}", nothing more.
TEMPLATE = re.compile(r"^\{\{\s*([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*)\s*\}\}$")


class SchemaProblem(Exception):
    """A form or UI schema is outside the supported subset; the message names the property."""


def properties_of(schema: dict) -> dict[str, dict]:
    return schema.get("properties") or {}


def required_of(schema: dict) -> set[str]:
    return set(schema.get("required") or ())


def ordered_names(schema: dict, ui: dict | None) -> list[str]:
    """Property names in `ui:order` (with `*` standing for the rest), else in schema order."""
    names = list(properties_of(schema))
    order = (ui or {}).get("ui:order")
    if not order:
        return names
    listed = [n for n in order if n != "*"]
    rest = [n for n in names if n not in listed]
    if "*" not in order:
        return listed + rest
    star = order.index("*")
    return listed[:star] + rest + listed[star:]


def widget_of(ui: dict | None, name: str) -> str | None:
    return ((ui or {}).get(name) or {}).get("ui:widget")


# -- checking -------------------------------------------------------------------------------------------

def check_form(schema: Any, ui: Any = None) -> None:
    """Raise `SchemaProblem` unless `schema` (and `ui`) stay inside the supported subset."""
    if not isinstance(schema, dict):
        raise SchemaProblem("a form schema must be a JSON object")
    if schema.get("type") != "object":
        raise SchemaProblem('a form schema needs "type": "object" at the top')
    _check_keywords("the form", schema, ROOT_KEYWORDS)
    _check_object(schema, path="", depth=0)
    if ui is not None:
        if not isinstance(ui, dict):
            raise SchemaProblem("a UI schema must be a JSON object")
        _check_ui(schema, ui, path="")


def _check_keywords(where: str, node: dict, allowed: set[str]) -> None:
    for key in node:
        if key in allowed or key in EXTENSIONS or (key.startswith("x-") and key not in EXTENSIONS):
            continue
        raise SchemaProblem(f"{where}: keyword {key!r} is not supported (allowed: {', '.join(sorted(allowed))})")
    for key in ("title", "description", "$comment"):
        if key in node and not isinstance(node[key], str):
            raise SchemaProblem(f"{where}: {key!r} must be a string")
    for key in ("x-personal", "x-sensitive", "x-searchable"):
        if key in node and not isinstance(node[key], bool):
            raise SchemaProblem(f"{where}: {key!r} must be true or false")
    if "additionalProperties" in node and not isinstance(node["additionalProperties"], bool):
        raise SchemaProblem(f"{where}: 'additionalProperties' must be true or false (unknown fields are dropped)")


def _check_object(node: dict, path: str, depth: int) -> None:
    props = node.get("properties", {})
    if not isinstance(props, dict):
        raise SchemaProblem(f"{path or 'the form'}: 'properties' must be an object")
    required = node.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise SchemaProblem(f"{path or 'the form'}: 'required' must be a list of property names")
    for name in required:
        if name not in props:
            raise SchemaProblem(f"{path or 'the form'}: required property {name!r} is not defined")
    for name, prop in props.items():
        where = f"{path}.{name}" if path else name
        if not FIELD_NAME.match(name) or keyword.iskeyword(name) or name in RESERVED_NAMES:
            raise SchemaProblem(f"property {where!r}: names must be identifiers (letters, digits, _; not starting "
                                f"with _) and not one of {', '.join(sorted(RESERVED_NAMES))}")
        _check_property(prop, where, depth)
        condition = prop.get("x-required-if")
        if condition is not None:
            _check_required_if(condition, where, props, name)


def _check_property(prop: Any, where: str, depth: int) -> None:
    if not isinstance(prop, dict):
        raise SchemaProblem(f"property {where!r}: must be a JSON object")
    kind = prop.get("type")
    if kind not in KEYWORDS:
        raise SchemaProblem(f"property {where!r}: type {kind!r} is not supported "
                            f"(use one of {', '.join(KEYWORDS)})")
    _check_keywords(f"property {where!r}", prop, KEYWORDS[kind] | {"type"} | ANNOTATIONS)
    if kind == "object":
        if depth >= 1:
            raise SchemaProblem(f"property {where!r}: objects may nest one level only")
        _check_object(prop, where, depth + 1)
        return
    if kind == "array":
        _check_array(prop, where)
    elif kind == "string":
        _check_string(prop, where)
    elif kind in ("integer", "number"):
        _check_number(prop, where, kind)
    if "default" in prop:
        _check_default(prop, where)


def _non_negative_int(prop: dict, key: str, where: str) -> None:
    value = prop.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise SchemaProblem(f"property {where!r}: {key!r} must be a whole number >= 0")


def _check_enum(values: Any, where: str, kind: str) -> None:
    if not isinstance(values, list) or not values:
        raise SchemaProblem(f"property {where!r}: 'enum' must be a non-empty list")
    if not all(_fits(v, kind) for v in values):
        raise SchemaProblem(f"property {where!r}: every 'enum' value must be of type {kind}")
    if len({repr(v) for v in values}) != len(values):
        raise SchemaProblem(f"property {where!r}: 'enum' values must be unique")


def _fits(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    return False


def _check_string(prop: dict, where: str) -> None:
    _non_negative_int(prop, "minLength", where)
    _non_negative_int(prop, "maxLength", where)
    if prop.get("minLength", 0) > prop.get("maxLength", float("inf")):
        raise SchemaProblem(f"property {where!r}: 'minLength' is greater than 'maxLength'")
    if "pattern" in prop:
        if not isinstance(prop["pattern"], str):
            raise SchemaProblem(f"property {where!r}: 'pattern' must be a string")
        try:
            re.compile(prop["pattern"])
        except re.error as err:
            raise SchemaProblem(f"property {where!r}: 'pattern' is not a valid regular expression: {err}") from err
    if "format" in prop and prop["format"] not in FORMATS:
        raise SchemaProblem(f"property {where!r}: format {prop['format']!r} is not supported "
                            f"(use one of {', '.join(FORMATS)})")
    if "enum" in prop:
        _check_enum(prop["enum"], where, "string")


def _check_number(prop: dict, where: str, kind: str) -> None:
    for key in ("minimum", "maximum"):
        if key in prop and not _fits(prop[key], "number"):
            raise SchemaProblem(f"property {where!r}: {key!r} must be a number")
    if prop.get("minimum", float("-inf")) > prop.get("maximum", float("inf")):
        raise SchemaProblem(f"property {where!r}: 'minimum' is greater than 'maximum'")
    if "enum" in prop:
        _check_enum(prop["enum"], where, kind)


def _check_array(prop: dict, where: str) -> None:
    items = prop.get("items")
    if not isinstance(items, dict) or "enum" not in items:
        raise SchemaProblem(f"property {where!r}: arrays are multi-selects: 'items' needs a type and an 'enum'")
    kind = items.get("type")
    if kind not in ("string", "integer", "number"):
        raise SchemaProblem(f"property {where!r}: array items must be of type string, integer or number")
    _check_keywords(f"property {where!r} items", items, {"type", "enum"} | ANNOTATIONS)
    _check_enum(items["enum"], where, kind)
    _non_negative_int(prop, "minItems", where)
    _non_negative_int(prop, "maxItems", where)
    if prop.get("minItems", 0) > prop.get("maxItems", float("inf")):
        raise SchemaProblem(f"property {where!r}: 'minItems' is greater than 'maxItems'")
    if "uniqueItems" in prop and not isinstance(prop["uniqueItems"], bool):
        raise SchemaProblem(f"property {where!r}: 'uniqueItems' must be true or false")


def _check_default(prop: dict, where: str) -> None:
    value = prop["default"]
    if isinstance(value, str) and "{{" in value:
        if not TEMPLATE.match(value):
            raise SchemaProblem(f"property {where!r}: a default from process data must be exactly "
                                "'{{ name }}' or '{{ name.part }}' (no expressions)")
        return
    kind = prop["type"]
    if kind == "array":
        allowed = prop["items"]["enum"]
        if not isinstance(value, list) or any(v not in allowed for v in value):
            raise SchemaProblem(f"property {where!r}: 'default' must be a list of 'enum' values")
        return
    if not _fits(value, kind):
        raise SchemaProblem(f"property {where!r}: 'default' must be of type {kind}")
    if "enum" in prop and value not in prop["enum"]:
        raise SchemaProblem(f"property {where!r}: 'default' is not one of the 'enum' values")
    if prop.get("format") in ("date", "date-time"):
        parse = date.fromisoformat if prop["format"] == "date" else datetime.fromisoformat
        try:
            parse(value)
        except ValueError as err:
            raise SchemaProblem(f"property {where!r}: 'default' is not an ISO {prop['format']}") from err


def _check_required_if(condition: Any, where: str, siblings: dict, name: str) -> None:
    if not isinstance(condition, dict) or len(condition) != 1:
        raise SchemaProblem(f"property {where!r}: 'x-required-if' must be {{\"other_field\": [values...]}}")
    [(other, values)] = condition.items()
    if other not in siblings or other == name:
        raise SchemaProblem(f"property {where!r}: 'x-required-if' names {other!r}, which is not a sibling field")
    if not isinstance(values, list) or not values:
        raise SchemaProblem(f"property {where!r}: 'x-required-if' values must be a non-empty list")


def _check_ui(schema: dict, ui: dict, path: str) -> None:
    props = properties_of(schema)
    for key, value in ui.items():
        where = f"{path}.{key}" if path else key
        if key == "ui:order":
            _check_order(value, props, path)
        elif key.startswith("ui:"):
            raise SchemaProblem(f"UI schema {path or 'root'}: {key!r} is only allowed on a field")
        elif key not in props:
            raise SchemaProblem(f"UI schema: {where!r} is not a field of the form")
        elif not isinstance(value, dict):
            raise SchemaProblem(f"UI schema {where!r}: must be a JSON object")
        elif props[key].get("type") == "object":
            _check_ui(props[key], value, where)
        else:
            _check_ui_field(props[key], value, where)


def _check_order(order: Any, props: dict, path: str) -> None:
    if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
        raise SchemaProblem(f"UI schema {path or 'root'}: 'ui:order' must be a list of field names")
    if len(set(order)) != len(order):
        raise SchemaProblem(f"UI schema {path or 'root'}: 'ui:order' names a field twice")
    for name in order:
        if name != "*" and name not in props:
            raise SchemaProblem(f"UI schema {path or 'root'}: 'ui:order' names {name!r}, which is not a field")


def _check_ui_field(prop: dict, ui: dict, where: str) -> None:
    for key, value in ui.items():
        if key not in UI_FIELD_KEYWORDS:
            raise SchemaProblem(f"UI schema {where!r}: {key!r} is not supported "
                                f"(allowed: {', '.join(sorted(UI_FIELD_KEYWORDS))})")
        if key in ("ui:help", "ui:placeholder") and not isinstance(value, str):
            raise SchemaProblem(f"UI schema {where!r}: {key!r} must be a string")
    widget = ui.get("ui:widget")
    if widget is not None:
        if widget not in WIDGETS:
            raise SchemaProblem(f"UI schema {where!r}: widget {widget!r} is unknown "
                                f"(use one of {', '.join(WIDGETS)})")
        if widget not in allowed_widgets(prop):
            raise SchemaProblem(f"UI schema {where!r}: widget {widget!r} does not fit a {_describe(prop)} field "
                                f"(use one of {', '.join(allowed_widgets(prop))})")
    names = ui.get("ui:enumNames")
    if names is not None:
        choices = choice_values(prop)
        if not choices or not isinstance(names, list) or len(names) != len(choices) \
                or not all(isinstance(n, str) for n in names):
            raise SchemaProblem(f"UI schema {where!r}: 'ui:enumNames' needs one label per choice")


def _describe(prop: dict) -> str:
    if prop["type"] == "array":
        return "multi-select"
    return f"{prop['type']} with choices" if "enum" in prop else prop["type"]


def allowed_widgets(prop: dict) -> tuple[str, ...]:
    """The widgets that can show a property of this type."""
    kind = prop["type"]
    if kind == "array":
        return ("select", "checkbox", "readonly")
    if kind == "boolean":
        return ("checkbox", "radio", "select", "readonly")
    if "enum" in prop:
        return ("select", "radio", "hidden", "readonly")
    if kind == "string" and "format" not in prop:
        return ("textarea", "hidden", "readonly")
    return ("hidden", "readonly")


def choice_values(prop: dict) -> list | None:
    """The values a choice field offers: enum values, array item values, or true/false."""
    if prop.get("type") == "array":
        return list(prop["items"]["enum"])
    if prop.get("type") == "boolean":
        return [True, False]
    return list(prop["enum"]) if "enum" in prop else None


# -- defaults and markers -------------------------------------------------------------------------------

def resolve(value: Any, context: dict[str, Any]) -> Any:
    """A default as given, or the process data it names (`{{ name }}` / `{{ a.b }}`); None when absent."""
    if not isinstance(value, str):
        return value
    match = TEMPLATE.match(value)
    if not match:
        return value
    current: Any = context
    for part in match.group(1).split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def defaults(schema: dict, context: dict[str, Any]) -> dict[str, Any]:
    """Default values of a form (nested for objects), resolved from `context`; fields without one are left out."""
    values: dict[str, Any] = {}
    for name, prop in properties_of(schema).items():
        if prop.get("type") == "object":
            inner = defaults(prop, context)
            if inner:
                values[name] = inner
        elif "default" in prop:
            value = resolve(prop["default"], context)
            if value is not None:
                values[name] = value
    return values


def personal_fields(schema: dict) -> dict[str, str]:
    """Fields marked `x-personal` or `x-sensitive`, by dotted path: 'personal' or 'sensitive'."""
    found: dict[str, str] = {}
    for name, prop in properties_of(schema).items():
        if not isinstance(prop, dict):
            continue
        if prop.get("x-sensitive"):
            found[name] = "sensitive"
        elif prop.get("x-personal"):
            found[name] = "personal"
        if prop.get("type") == "object":
            for inner, kind in personal_fields(prop).items():
                found[f"{name}.{inner}"] = kind
    return found
