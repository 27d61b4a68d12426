"""Task forms: checking form files at deploy time, building WTForms classes, cleaning submitted data.

Submitted data arrives as JSON (CLI, API, or the web app's own form data). It is fed to the same WTForms
class the web app renders, as the name -> list-of-strings mapping a browser would post, so one set of
validators serves every way of completing a task. What comes back out is plain JSON for the process data.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from datetime import date, datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from wtforms import Form

from engine.core.bundle import BuiltModel
from engine.core.tasks import properties
from engine.errors import InvalidModel, InvalidTaskData
from engine.forms.builder import build_form_class, coerce_bool, form_json
from engine.forms.schema import SchemaProblem, check_form, defaults, properties_of, required_of, widget_of
from engine.forms.schema import personal_fields as _personal_fields

FORM_PROPERTY = "formJsonSchemaFilename"
UI_PROPERTY = "formUiSchemaFilename"
ALL = "__all__"


class FormData(dict):
    """Values keyed by field name, each a list of strings: what WTForms reads from a posted form."""

    def getlist(self, name: str) -> list[str]:
        return list(self.get(name, ()))


class FormService:
    """Validates the forms a model names; builds and caches their WTForms classes; cleans submitted data."""

    def __init__(self, cache_size: int = 256):
        self._classes: OrderedDict[tuple, type[Form]] = OrderedDict()
        self._size = cache_size
        self._lock = threading.Lock()

    personal_fields = staticmethod(_personal_fields)

    # -- deploy time --------------------------------------------------------------------------------------
    def check_model(self, model: BuiltModel) -> None:
        """Every form a user task or start event names must exist and stay inside the supported subset."""
        for spec in _form_specs(model):
            props = properties(spec)
            for prop in (FORM_PROPERTY, UI_PROPERTY):
                name = props.get(prop)
                if name and name not in model.forms:
                    raise InvalidModel(f"form file {name!r} named by {prop} was not found beside the model "
                                       "or in the forms folder", element_id=spec.bpmn_id)
            form_key, ui_key = props.get(FORM_PROPERTY), props.get(UI_PROPERTY)
            if ui_key and not form_key:
                raise InvalidModel(f"{UI_PROPERTY} is set but {FORM_PROPERTY} is not", element_id=spec.bpmn_id)
            if not form_key:
                continue
            try:
                check_form(model.forms[form_key], model.forms.get(ui_key) if ui_key else None)
            except SchemaProblem as problem:
                file = ui_key if str(problem).startswith("UI schema") else form_key
                raise InvalidModel(str(problem), file=file, element_id=spec.bpmn_id) from problem

    # -- building -----------------------------------------------------------------------------------------
    def form_class(self, schema: dict, ui: dict | None = None, base: type[Form] = Form) -> type[Form]:
        """The WTForms class of a form schema, built once per schema content (InvalidModel if outside the subset).

        `base` lets the web app add CSRF (e.g. FlaskForm); nested objects always use plain forms."""
        key = (json.dumps(schema, sort_keys=True), json.dumps(ui, sort_keys=True), base)
        with self._lock:
            cached = self._classes.get(key)
            if cached is not None:
                self._classes.move_to_end(key)
                return cached
        try:
            check_form(schema, ui)
        except SchemaProblem as problem:
            raise InvalidModel(str(problem)) from problem
        built = build_form_class(schema, ui, base)
        with self._lock:
            self._classes[key] = built
            while len(self._classes) > self._size:
                self._classes.popitem(last=False)
        return built

    @staticmethod
    def initial_data(schema: dict, context: dict[str, Any]) -> dict[str, Any]:
        """The values a form opens with: its defaults, `{{ name }}` ones taken from the process data."""
        return defaults(schema, context)

    def form_for(self, form: dict[str, Any] | None, context: dict[str, Any]) -> tuple[type[Form] | None, dict]:
        """Form class and initial values for a task's `form` (as in `TaskView.form`); (None, {}) without one."""
        if not form or form.get("schema") is None:
            return None, {}
        return self.form_class(form["schema"], form.get("ui")), self.initial_data(form["schema"], context)

    def start_form(self, model: BuiltModel) -> tuple[type[Form] | None, dict]:
        """Form class and initial values of the process's start event form, if its start event names one."""
        form_key, ui_key = start_form_keys(model)
        if not form_key:
            return None, {}
        schema = model.forms[form_key]
        return self.form_class(schema, model.forms.get(ui_key) if ui_key else None), self.initial_data(schema, {})

    # -- cleaning -----------------------------------------------------------------------------------------
    def clean(self, model: BuiltModel, form_key: str | None, ui_key: str | None, data: dict[str, Any],
              context: dict[str, Any]) -> dict[str, Any]:
        """Validate task data against the task's form; return JSON values of its fields (unknown ones dropped).

        Raises `InvalidTaskData` with messages per field. A task without a form takes any JSON object."""
        if not isinstance(data, dict):
            raise InvalidTaskData({ALL: ["task data must be a JSON object"]})
        if not form_key:
            return dict(data)
        if form_key not in model.forms:
            raise InvalidModel(f"form file {form_key!r} is not part of this process version")
        schema = model.forms[form_key]
        ui = model.forms.get(ui_key) if ui_key else None
        return self.clean_with(schema, ui, data, context)

    def clean_start(self, model: BuiltModel, data: dict[str, Any]) -> dict[str, Any]:
        """Start data cleaned against the start event's form; unchanged when the start event names none."""
        form_key, ui_key = start_form_keys(model)
        return self.clean(model, form_key, ui_key, data, {})

    def clean_with(self, schema: dict, ui: dict | None, data: dict[str, Any],
                   context: dict[str, Any]) -> dict[str, Any]:
        """Validate `data` against a form schema; defaults fill fields the data leaves out."""
        form_class = self.form_class(schema, ui)
        values = _merge(defaults(schema, context), data)
        formdata, errors = to_formdata(schema, ui or {}, values)
        form = form_class(formdata=formdata)
        form.validate()
        wrong_groups = tuple(f"{path}." for path in errors)  # a group of the wrong type: its fields add nothing
        for path, messages in _flat_errors(form.errors).items():
            if not path.startswith(wrong_groups):
                errors.setdefault(path, messages)
        cleaned = form_json(form)
        for name in _absent_optional_objects(schema, values):
            errors = {p: m for p, m in errors.items() if not p.startswith(f"{name}.")}
            cleaned[name] = None
        if errors:
            raise InvalidTaskData(errors)
        return cleaned


def personal_fields(schema: dict) -> dict[str, str]:
    """Fields of a form marked `x-personal` / `x-sensitive`, by dotted path: 'personal' or 'sensitive'."""
    return _personal_fields(schema)


def start_form_keys(model: BuiltModel) -> tuple[str | None, str | None]:
    """The form (and UI) file names of the main process's start event, if it names a form."""
    for spec in model.spec.task_specs.values():
        if isinstance(spec, StartEvent):
            props = properties(spec)
            if props.get(FORM_PROPERTY):
                return props[FORM_PROPERTY], props.get(UI_PROPERTY)
    return None, None


def form_files(model: BuiltModel):
    """(schema, UI schema or {}) of each form the model's user tasks and start events name (staff forms first)."""
    seen = set()
    for spec in sorted(_form_specs(model), key=lambda spec: isinstance(spec, StartEvent)):
        props = properties(spec)
        pair = (props.get(FORM_PROPERTY), props.get(UI_PROPERTY))
        schema = model.forms.get(pair[0]) if pair[0] else None
        if pair in seen or not isinstance(schema, dict):
            continue
        seen.add(pair)
        ui = model.forms.get(pair[1]) if pair[1] else None
        yield schema, ui if isinstance(ui, dict) else {}


def _form_specs(model: BuiltModel):
    """User/manual tasks of every process in the model, and start events that name a form."""
    for spec_group in (model.spec, *model.subprocess_specs.values()):
        if spec_group is None:
            continue
        for spec in spec_group.task_specs.values():
            if getattr(spec, "manual", False) or isinstance(spec, StartEvent):
                yield spec


def _merge(base: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _absent_optional_objects(schema: dict, values: dict[str, Any]) -> list[str]:
    """Optional nested objects the data says nothing about: their inner required fields do not apply."""
    required = required_of(schema)
    return [name for name, prop in properties_of(schema).items()
            if prop["type"] == "object" and name not in required and _blank_group(values.get(name))]


def _blank_group(value: Any) -> bool:
    return value is None or (isinstance(value, dict) and all(v in (None, "", []) for v in value.values()))


def _flat_errors(errors: dict, prefix: str = "") -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    for name, messages in errors.items():
        if isinstance(messages, dict):
            flat.update(_flat_errors(messages, f"{prefix}{name}."))
        elif name is None:
            flat.setdefault(ALL, []).extend(messages)
        else:
            flat[f"{prefix}{name}"] = [m for m in messages if m]
    return flat


# -- JSON in --------------------------------------------------------------------------------------------

def to_formdata(schema: dict, ui: dict, values: dict[str, Any], prefix: str = "",
                path: str = "") -> tuple[FormData, dict[str, list[str]]]:
    """JSON values as posted form data (nested objects as `parent-child`), plus type errors by dotted path."""
    formdata, errors = FormData(), {}
    for name, prop in properties_of(schema).items():
        value, key, where = values.get(name), f"{prefix}{name}", f"{path}{name}"
        if value is None or widget_of(ui, name) == "readonly":
            continue
        if prop["type"] == "object":
            if not isinstance(value, dict):
                errors[where] = ["Expected a group of fields (a JSON object)."]
                continue
            inner, inner_errors = to_formdata(prop, ui.get(name) or {}, value, f"{key}-", f"{where}.")
            formdata.update(inner)
            errors.update(inner_errors)
        elif prop["type"] == "array":
            if not isinstance(value, list):
                errors[where] = ["Expected a list of choices."]
                continue
            texts = [_as_text(v, prop["items"], None) for v in value]
            if any(isinstance(t, _Problem) for t in texts):
                errors[where] = ["Not a valid choice."]
            else:
                formdata[key] = [t for t in texts if t is not None]
        else:
            text = _as_text(value, prop, widget_of(ui, name))
            if isinstance(text, _Problem):
                errors[where] = [str(text)]
            elif text is not None:
                formdata[key] = [text]
    return formdata, errors


class _Problem(str):
    """A type error found while turning a JSON value into form text."""


def _as_text(value: Any, prop: dict, widget: str | None) -> str | _Problem | None:
    kind = prop["type"]
    if kind == "boolean":
        try:
            flag = coerce_bool(value) if isinstance(value, bool | str) else _bad()
        except ValueError:
            return _Problem("Not a valid yes/no value.")
        if widget in (None, "checkbox"):
            return "y" if flag else None  # an unticked checkbox is simply absent, as in a browser post
        return None if flag is None else ("true" if flag else "false")
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return _Problem(f"Not a valid {'integer' if kind == 'integer' else 'number'} value.")
        if isinstance(value, float) and kind == "integer" and value.is_integer():
            return str(int(value))
        return str(value)
    if isinstance(value, datetime | date) and prop.get("format") in ("date", "date-time"):
        return value.isoformat()
    if not isinstance(value, str):
        return _Problem("Expected text.")
    return value


def _bad():
    raise ValueError("not a yes/no value")
