"""WTForms form classes built from a checked form schema (+ UI schema), and their data turned back into JSON."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    FloatField,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional, StopValidation
from wtforms.validators import ValidationError as FieldError
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget, NumberInput

from engine.forms.schema import choice_values, ordered_names, properties_of, required_of, widget_of

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SPEC_ATTRIBUTE = "_clientflow_spec"  # where a built class keeps its schema; field names never start with _


# -- fields and validators ------------------------------------------------------------------------------

class IsoDateField(DateField):
    """A date field that also takes ISO strings as data (process data holds dates as strings)."""

    def process_data(self, value):
        self.data = _parse(value, date.fromisoformat)

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0]:
            try:
                self.data = date.fromisoformat(valuelist[0].strip())
            except ValueError as err:
                self.data = None
                raise ValueError(self.gettext("Not a valid date value.")) from err
        elif valuelist:
            self.data = None


class IsoDateTimeField(DateTimeLocalField):
    """A date-time field taking any ISO 8601 date-time (with or without offset) as form or process data."""

    def process_data(self, value):
        self.data = _parse(value, datetime.fromisoformat)

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0]:
            try:
                self.data = datetime.fromisoformat(valuelist[0].strip())
            except ValueError as err:
                self.data = None
                raise ValueError(self.gettext("Not a valid datetime value.")) from err
        elif valuelist:
            self.data = None


def _parse(value, parser):
    if isinstance(value, str):
        try:
            return parser(value)
        except ValueError:
            return None
    return value


class EmailAddress:
    """An e-mail address check that needs no extra package (WTForms' own needs `email_validator`)."""

    def __call__(self, form, field):
        if field.data and not EMAIL.match(field.data):
            raise FieldError("Not a valid e-mail address.")


class Pattern:
    """JSON Schema `pattern`: the regular expression must match somewhere in the value (use ^...$ to anchor)."""

    def __init__(self, pattern: str):
        self.regex = re.compile(pattern)

    def __call__(self, form, field):
        if field.data and not self.regex.search(field.data):
            raise FieldError("Not in the expected format.")


class ItemCount:
    """minItems / maxItems of a multi-select."""

    def __init__(self, minimum: int | None, maximum: int | None):
        self.minimum, self.maximum = minimum, maximum

    def __call__(self, form, field):
        count = len(field.data or [])
        if self.minimum is not None and count < self.minimum:
            raise FieldError(f"Choose at least {self.minimum}.")
        if self.maximum is not None and count > self.maximum:
            raise FieldError(f"Choose at most {self.maximum}.")


class RequiredIf:
    """`x-required-if`: required when a sibling field has one of the given values, optional otherwise."""

    def __init__(self, other: str, values: list, other_label: str):
        self.other, self.values, self.other_label = other, values, other_label

    def __call__(self, form, field):
        # An unticked checkbox is no answer: as with `required`, a checkbox required here must be ticked.
        if not _is_empty(field.data) and not (field.type == "BooleanField" and field.data is False):
            return
        other = form._fields.get(self.other)
        if other is not None and other.data in self.values:
            raise StopValidation(f"This field is required when {self.other_label} is {_show(other.data)}.")
        field.errors[:] = []
        raise StopValidation()


def parsed(form, field):
    """Stop at a value that did not parse: range or length checks on it would only add noise."""
    if field.process_errors:
        raise StopValidation()


def _is_empty(value: Any) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def _show(value: Any) -> str:
    return str(value).replace("_", " ") if not isinstance(value, bool) else ("yes" if value else "no")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def coerce_bool(value: Any) -> bool | None:
    """Choice values of a yes/no radio or select: 'true'/'false' from forms, booleans from data."""
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    if text in ("", "none"):
        return None
    if text in ("true", "yes", "y", "on", "1"):
        return True
    if text in ("false", "no", "n", "off", "0"):
        return False
    raise ValueError("Not a valid yes/no value.")


def _coerce(kind: str):
    def number(value):
        if value is None or value == "":
            return None
        return int(value) if kind == "integer" else float(value)
    if kind in ("integer", "number"):
        return number
    if kind == "boolean":
        return coerce_bool
    return lambda value: value if value is None else str(value)


# -- building -------------------------------------------------------------------------------------------

def humanise(name: str) -> str:
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _choices(prop: dict, ui: dict, required: bool, blank: bool) -> list[tuple[Any, str]]:
    values = choice_values(prop)
    names = ui.get("ui:enumNames") or [("Yes" if v else "No") if isinstance(v, bool) else humanise(str(v))
                                        for v in values]
    choices = list(zip(values, names, strict=True))
    if blank and not required:
        choices.insert(0, ("", "—"))
    return choices


def _presence(prop: dict, widget: str | None, required: bool) -> list:
    kind = prop["type"]
    if not required:
        return [] if kind == "boolean" and widget in (None, "checkbox") else [Optional()]
    if kind == "array" or (kind == "boolean" and widget in (None, "checkbox")) or \
            (kind == "string" and "enum" not in prop):
        return [DataRequired()]  # text must not be blank; a checkbox must be ticked; a multi-select non-empty
    return [InputRequired()]  # 0 and False are answers


def _field(name: str, prop: dict, ui: dict, required: bool, siblings: dict):
    """One unbound WTForms field for a property."""
    kind, widget = prop["type"], ui.get("ui:widget")
    label = prop.get("title") or humanise(name)
    description = " ".join(p for p in (prop.get("description"), ui.get("ui:help")) if p)
    render_kw = {"placeholder": ui["ui:placeholder"]} if ui.get("ui:placeholder") else {}
    if widget == "readonly":
        # Shown, never taken from a submission (clean() ignores it), so no validation either.
        return StringField(label, description=description, render_kw={**render_kw, "readonly": True})
    validators = _presence(prop, widget, required)
    if "x-required-if" in prop:
        [(other, values)] = prop["x-required-if"].items()
        other_label = (siblings[other].get("title") or humanise(other)).lower()
        validators = [RequiredIf(other, values, other_label)]
    validators.insert(0, parsed)
    common = {"label": label, "description": description, "render_kw": render_kw}
    if kind == "array":
        items = prop["items"]
        validators.append(ItemCount(prop.get("minItems"), prop.get("maxItems")))
        extra = {"widget": ListWidget(prefix_label=False), "option_widget": CheckboxInput()} \
            if widget == "checkbox" else {}
        return SelectMultipleField(choices=_choices(prop, ui, True, False), coerce=_coerce(items["type"]),
                                   validators=validators, **extra, **common)
    if "enum" in prop or (kind == "boolean" and widget in ("radio", "select")):
        if widget == "hidden":
            return HiddenField(validators=[*validators, AnyOf(prop["enum"])], filters=[_strip, _coerce(kind)],
                               **common)
        field_class = RadioField if widget == "radio" else SelectField
        return field_class(choices=_choices(prop, ui, required, field_class is SelectField),
                           coerce=_coerce(kind), validators=validators, **common)
    if kind == "boolean":
        return BooleanField(validators=validators, **common)
    if kind in ("integer", "number"):
        if "minimum" in prop or "maximum" in prop:
            validators.append(NumberRange(prop.get("minimum"), prop.get("maximum")))
        field_class = IntegerField if kind == "integer" else FloatField
        widget_object = HiddenInput() if widget == "hidden" else NumberInput(step=1 if kind == "integer" else "any")
        return field_class(validators=validators, widget=widget_object, **common)
    return _string_field(prop, widget, validators, common)


def _string_field(prop: dict, widget: str | None, validators: list, common: dict):
    fmt = prop.get("format")
    if "minLength" in prop or "maxLength" in prop:
        validators.append(Length(prop.get("minLength", -1), prop.get("maxLength", -1)))
    if "pattern" in prop:
        validators.append(Pattern(prop["pattern"]))
    if fmt == "email":
        validators.append(EmailAddress())
    if widget == "hidden":
        field_class = HiddenField
    elif fmt == "date":
        return IsoDateField(validators=validators, **common)
    elif fmt == "date-time":
        return IsoDateTimeField(validators=validators, format="%Y-%m-%dT%H:%M", **common)  # as browsers send it
    elif fmt == "email":
        field_class = EmailField
    else:
        field_class = TextAreaField if widget == "textarea" else StringField
    return field_class(validators=validators, filters=[_strip], **common)


def build_form_class(schema: dict, ui: dict | None, base: type[Form] = Form) -> type[Form]:
    """A WTForms class for a checked schema: fields in `ui:order`, nested objects as `FormField`s."""
    ui = ui or {}
    props, required = properties_of(schema), required_of(schema)
    attributes: dict[str, Any] = {SPEC_ATTRIBUTE: (schema, ui)}
    for name in ordered_names(schema, ui):
        prop, field_ui = props[name], ui.get(name) or {}
        if prop["type"] == "object":
            inner = build_form_class(prop, field_ui, Form)
            attributes[name] = FormField(inner, label=prop.get("title") or humanise(name),
                                         description=prop.get("description", ""), separator="-")
        else:
            attributes[name] = _field(name, prop, field_ui, name in required, props)
    return type("TaskForm", (base,), attributes)


# -- data out -------------------------------------------------------------------------------------------

def form_json(form: Form) -> dict[str, Any]:
    """A validated form's data as JSON values: ISO dates, int/float, bool; empty → None; readonly left out."""
    schema, ui = getattr(form, SPEC_ATTRIBUTE)
    values: dict[str, Any] = {}
    for name, prop in properties_of(schema).items():
        if widget_of(ui, name) == "readonly":
            continue
        field = form[name]
        if prop["type"] == "object":
            values[name] = form_json(field.form)
        else:
            values[name] = json_value(field.data, prop)
    return values


def json_value(value: Any, prop: dict) -> Any:
    kind = prop["type"]
    if kind == "array":
        return list(value or [])
    if kind == "boolean":
        return bool(value) if value is not None else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
        if kind in ("integer", "number"):  # a hidden number arrives as text
            return int(value) if kind == "integer" else float(value)
    return value
