"""What staff read instead of codes: the forms' field titles and option labels, and ISO 8601 durations in words."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from engine.core.bundle import BuiltModel
from engine.forms.builder import humanise
from engine.forms.schema import choice_values
from engine.forms.service import form_files

_DURATION = re.compile(r"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
                       r"(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_UNITS = ("year", "month", "week", "day", "hour", "minute", "second")
# A code a script wrote (a stage, an outcome): lower-case words joined by underscores, like `welcome_sent`.
_CODE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")


def duration_words(text: Any, business: bool = False) -> str | None:
    """'P5D' -> '5 days', 'PT1H30M' -> '1 hour 30 minutes' ('business days' with `business`); None if not one."""
    found = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not found:
        return None
    parts = []
    for unit, amount in zip(_UNITS, found.groups(), strict=True):
        if amount is None or float(amount) == 0:
            continue
        number = amount.rstrip("0").rstrip(".") if "." in amount else str(int(amount))
        noun = f"business {unit}" if business and unit == "day" else unit
        parts.append(f"{number} {noun}{'' if number == '1' else 's'}")
    return " ".join(parts) or "no time"


@dataclass(frozen=True)
class FieldLabel:
    """One form field as staff read it: its title and the label of each option (by the option's text)."""

    title: str
    options: dict[str, str] = field(default_factory=dict)


def _option_key(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


@dataclass(frozen=True)
class Labels:
    """The field titles and option labels of one process version's forms (the first form naming a field wins)."""

    fields: dict[str, FieldLabel] = field(default_factory=dict)

    def title(self, name: str) -> str:
        """A field's form title, else its name in words ('checkin_first' -> 'Checkin first')."""
        known = self.fields.get(name)
        return known.title if known else humanise(name)

    def value(self, name: str, value: Any) -> Any:
        """A stored value as staff read it: option labels for codes, durations in words, other values unchanged."""
        known = self.fields.get(name)
        if isinstance(value, list):
            return [self.value(name, item) for item in value]
        if known and known.options and not isinstance(value, dict | bool) and value is not None:
            return known.options.get(_option_key(value), value)
        words = duration_words(value)
        if words:
            return words
        if known is None and isinstance(value, str) and _CODE.match(value):
            return humanise(value)
        return value

    def rows(self, data: dict[str, Any]) -> list[tuple[str, Any]]:
        """(title, labelled value) of each item of a case's data, in title order."""
        rows = [(self.title(name), self.value(name, value)) for name, value in data.items()]
        return sorted(rows, key=lambda row: row[0].lower())

    def values(self, name: str, values: list) -> str:
        """Several stored values of one field, labelled and joined for a sentence."""
        return ", ".join(str(self.value(name, v)) for v in values)


def labels_of(model: BuiltModel) -> Labels:
    """The labels of every top-level field of the model's forms (start event and user tasks)."""
    fields: dict[str, FieldLabel] = {}
    for schema, ui in form_files(model):
        for name, prop in (schema.get("properties") or {}).items():
            if name in fields or not isinstance(prop, dict):
                continue
            fields[name] = FieldLabel(str(prop.get("title") or humanise(name)), _options(prop, ui.get(name) or {}))
    return Labels(fields)


def _options(prop: dict, ui: dict) -> dict[str, str]:
    try:
        values = choice_values(prop) or []
    except (KeyError, TypeError):
        return {}
    names = ui.get("ui:enumNames") if isinstance(ui, dict) else None
    if not isinstance(names, list) or len(names) != len(values):
        names = [("Yes" if v else "No") if isinstance(v, bool) else humanise(str(v)) for v in values]
    return {_option_key(v): str(n) for v, n in zip(values, names, strict=True)}
