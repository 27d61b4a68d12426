"""Incidents (instances stopped in `error`) for the operations console, and corrections of a running case's data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from engine.core import actions, definitions
from engine.core.db.models import ProcessInstance
from engine.core.unit_of_work import view
from engine.core.users import UserView
from engine.errors import InstanceNotFound, InvalidInput
from engine.results import InstanceView

if TYPE_CHECKING:
    from engine.core.services import Services
    from engine.forms.service import FormService


@dataclass(frozen=True)
class Incident:
    instance: InstanceView
    element_id: str | None
    element_name: str | None
    message: str | None
    line: int | None
    failed_at: datetime


def element_name(model, element_id: str | None) -> str | None:
    """The BPMN name of an element (in the process or one of its subprocesses), else None."""
    if not element_id:
        return None
    for spec in (model.spec, *model.subprocess_specs.values()):
        task_spec = spec.task_specs.get(element_id)
        if task_spec is not None:
            return getattr(task_spec, "bpmn_name", None) or None
    return None


def element_names(services: Services, instance_id: int) -> dict[str, str]:
    """Element id -> name of every named element of the instance's process version (for audit trails)."""
    return names_of(model_of(services, instance_id))


def names_of(model) -> dict[str, str]:
    """Element id -> name (or its kind when unnamed) of every element of a built model."""
    names, inner = {}, []
    for spec in (model.spec, *model.subprocess_specs.values()):
        for task_spec in spec.task_specs.values():
            bpmn_id, name = getattr(task_spec, "bpmn_id", None), getattr(task_spec, "bpmn_name", None)
            if bpmn_id:
                names.setdefault(bpmn_id, name or _kind(task_spec))
            elif "." in task_spec.name:
                inner.append(task_spec.name)
    # The engine's own steps around an element (`investigate.BoundaryEventSplit`) read as the element itself.
    for name in inner:
        owner = names.get(name.split(".", 1)[0])
        if owner:
            names.setdefault(name, owner)
    return names


def _kind(task_spec) -> str:
    """An unnamed element described by its type: ExclusiveGateway -> 'Exclusive gateway' (never its id)."""
    words = re.findall(r"[A-Z][a-z]+", type(task_spec).__name__.removeprefix("Bpmn"))
    return " ".join(words).capitalize() or "Step"


def incidents(services: Services, limit: int, offset: int) -> tuple[list[Incident], int]:
    """Failed instances, most recent failure first, and how many there are in all."""
    with services.read_session() as session:
        failed = ProcessInstance.status == "error"
        total = session.scalar(select(func.count()).select_from(ProcessInstance).where(failed))
        rows = session.scalars(select(ProcessInstance).where(failed)
                               .order_by(ProcessInstance.updated_at.desc(), ProcessInstance.id.desc())
                               .limit(limit).offset(offset)).all()
        found = [Incident(view(r), r.error_element_id,
                          element_name(definitions.model_for(services, session, r.definition_id), r.error_element_id),
                          r.error_message, r.error_line, r.updated_at) for r in rows]
    return found, total


def field_titles(model) -> list[tuple[str, str]]:
    """(name, title) of every top-level field of the model's forms, sorted by title: what may be corrected."""
    fields = {}
    for schema in model.forms.values():
        for name, prop in ((schema.get("properties") or {}).items() if isinstance(schema, dict) else ()):
            if isinstance(prop, dict) and prop.get("type") != "object":
                fields.setdefault(name, str(prop.get("title") or name))
    return sorted(fields.items(), key=lambda item: (item[1].lower(), item[0]))


def model_of(services: Services, instance_id: int):
    """The built model of the process version an instance runs."""
    with services.read_session() as session:
        row = session.get(ProcessInstance, instance_id)
        if row is None:
            raise InstanceNotFound(f"no instance with id {instance_id}")
        return definitions.model_for(services, session, row.definition_id)


def correctable_fields(services: Services, instance_id: int) -> list[tuple[str, str]]:
    return field_titles(model_of(services, instance_id))


def form_field(model, name: str) -> dict[str, Any]:
    """The JSON schema of the form field `name` in any form of the model (the first that defines it)."""
    for schema in model.forms.values():
        prop = (schema.get("properties") or {}).get(name) if isinstance(schema, dict) else None
        if isinstance(prop, dict):
            return prop
    raise InvalidInput(f"{name!r} is not a field of any form of this process: only form fields can be corrected")


def correct_variable(services: Services, forms: FormService, instance_id: int, name: str, value: Any,
                     actor: UserView, reason: str) -> InstanceView:
    """Set one form field of a running or failed instance to `value`, validated by the field's schema."""
    with services.read_session() as session:
        row = session.get(ProcessInstance, instance_id)
        model = definitions.model_for(services, session, row.definition_id) if row is not None else None
    if model is None:
        raise InstanceNotFound(f"no instance with id {instance_id}")
    schema = {"type": "object", "properties": {name: form_field(model, name)}, "required": [name]}
    cleaned = forms.clean_with(schema, None, {name: value}, {})
    return actions.set_data(services, instance_id, {name: cleaned[name]}, actor, reason)
