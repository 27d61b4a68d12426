"""Camunda's typed-variable JSON (`{"name": {"value": ..., "type": "String"}}`) to plain values and back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from engine.errors import InvalidInput

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
NUMBER_TYPES = {"integer": int, "long": int, "short": int, "double": float}


def _value(name: str, typed: Any) -> Any:
    if not isinstance(typed, dict) or "value" not in typed and (typed.get("type") or "").lower() != "null":
        raise InvalidInput(f"variable {name!r} must be an object with `value` (and `type`)")
    value, kind = typed.get("value"), (typed.get("type") or "").lower()
    if value is None or kind == "null":
        return None
    if kind in ("", "string", "date"):
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise InvalidInput(f"variable {name!r} of type Boolean must be true or false")
        return value
    if kind in NUMBER_TYPES:
        try:
            number = NUMBER_TYPES[kind](value)
        except (TypeError, ValueError):
            raise InvalidInput(f"variable {name!r} of type {typed.get('type')} must be a number") from None
        return number
    if kind in ("json", "object"):
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as err:
                raise InvalidInput(f"variable {name!r}: invalid JSON ({err.msg})") from None
        return value
    raise InvalidInput(f"variable {name!r} has type {typed.get('type')!r}; supported: String, Boolean, Integer, "
                       "Long, Short, Double, Date, Json, Object, Null")


def from_camunda(variables: Any) -> dict[str, Any]:
    """Plain values from a Camunda variables object (None or absent = no variables)."""
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise InvalidInput("`variables` must be a JSON object of typed values")
    return {name: _value(name, typed) for name, typed in variables.items()}


def typed(value: Any) -> dict[str, Any]:
    if value is None:
        return {"type": "Null", "value": None, "valueInfo": {}}
    if isinstance(value, bool):
        return {"type": "Boolean", "value": value, "valueInfo": {}}
    if isinstance(value, int):
        return {"type": "Integer" if INT_MIN <= value <= INT_MAX else "Long", "value": value, "valueInfo": {}}
    if isinstance(value, float):
        return {"type": "Double", "value": value, "valueInfo": {}}
    if isinstance(value, str):
        return {"type": "String", "value": value, "valueInfo": {}}
    return {"type": "Json", "value": json.dumps(value, default=str), "valueInfo": {}}


def to_camunda(variables: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: typed(value) for name, value in variables.items()}


def camunda_date(value: datetime | None) -> str | None:
    """A date as Camunda writes it (`2026-12-03T22:14:05.120+0000`); stored naive dates are UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}" + value.strftime("%z")
