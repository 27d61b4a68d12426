"""The client portal's side of the engine: the portal actor, and a client's view of a case in plain words.

A model tells clients where their case stands with two `spiffworkflow:properties` on its user tasks and catch
events: `clientStage` (what is happening now, in plain words) and `clientNextStep` (what the client can expect
next). The due date shown beside them is the task's deadline (its earliest interrupting boundary timer). Where a
case waits at no such element, a neutral sentence stands in. Task names, lanes, people and process data never
leave this module: only those words and dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from sqlalchemy import select

from engine.core import actions, definitions
from engine.core.db.models import ProcessInstance
from engine.core.tasks import properties
from engine.core.users import UserView
from engine.forms.schema import properties_of
from engine.forms.service import start_form_keys
from engine.results import InstanceView

if TYPE_CHECKING:
    from engine.facade import Engine

PORTAL_ACTOR = "portal"
CLIENT_LANE = "Client"
# Acts for anonymous clients: it may work only in the Client lane (or on lane-less tasks) and owns no account.
PORTAL_USER = UserView(0, PORTAL_ACTOR, "Client portal", None, frozenset({CLIENT_LANE}), True)

STAGE_PROPERTY = "clientStage"
NEXT_STEP_PROPERTY = "clientNextStep"
# Where a case's contact address is found when its start form marks no field `"format": "email"`.
EMAIL_FIELDS = ("client_email", "email", "submitter_email", "contact_email", "customer_email")
NAME_FIELDS = ("client_name", "submitter_name", "contact_name", "customer_name", "name")

WORKING = "Our team is working on it."
CLOSED = "Closed."


@dataclass(frozen=True)
class ClientStep:
    """One thing happening on a case, as the client may see it."""

    stage: str
    next_step: str | None = None
    due_at: datetime | None = None


@dataclass(frozen=True)
class ClientCase:
    """A case as the portal shows it: words and dates only."""

    reference: str
    title: str
    is_open: bool
    submitted_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    steps: tuple[ClientStep, ...]


@dataclass(frozen=True)
class CaseContact:
    """Who a case belongs to, for the portal to check a client's claim against; never shown."""

    instance_id: int
    reference: str
    process_key: str
    email: str | None
    name: str | None


# -- acting for the client --------------------------------------------------------------------------------

def start(engine: Engine, key: str, data: dict[str, Any]) -> InstanceView:
    """Start a process for a client (its start form cleans the data), recorded as started by the portal."""
    return actions.start(engine.services, key, data, PORTAL_USER)


def send_message(engine: Engine, name: str, reference: str, payload: dict[str, Any]) -> InstanceView:
    """Deliver a client's message to the case with that reference, if it waits for one of that name."""
    return actions.send_message(engine.services, name, {"reference": reference}, payload, PORTAL_USER)


# -- reading ----------------------------------------------------------------------------------------------

def find(engine: Engine, reference: str) -> tuple[CaseContact, ClientCase] | None:
    """The contact and the client's view of the case with that reference; None when there is none."""
    with engine.read_session() as session:
        row = session.scalar(select(ProcessInstance.id).where(ProcessInstance.reference == reference))
    return None if row is None else view(engine, row)


def view(engine: Engine, instance_id: int) -> tuple[CaseContact, ClientCase]:
    """The contact and the client's view of one case."""
    detail = engine.instance_detail(instance_id)
    model = _model_of(engine, instance_id)
    instance = detail.instance
    contact = CaseContact(instance.id, instance.reference or "", instance.key,
                          _first_text(detail.data, _email_fields(model)), _first_text(detail.data, NAME_FIELDS))
    is_open = instance.status in ("running", "error")
    steps = _steps(detail, _specs_by_id(model)) if is_open else (ClientStep(CLOSED),)
    case = ClientCase(instance.reference or "", model.name or instance.key, is_open, instance.started_at,
                      instance.updated_at, instance.ended_at, steps)
    return contact, case


def waiting_messages(engine: Engine, instance_id: int) -> set[str]:
    """Names of the messages a running case waits for now."""
    detail = engine.instance_detail(instance_id)
    if detail.instance.status != "running":
        return set()
    specs = _specs_by_id(_model_of(engine, instance_id))
    names = set()
    for element_id in detail.active_elements:
        definition = getattr(specs.get(element_id), "event_definition", None)
        if isinstance(definition, MessageEventDefinition):
            names.add(definition.name)
    return names


def _steps(detail, specs: dict[str, Any]) -> tuple[ClientStep, ...]:
    steps: list[ClientStep] = []
    for task in sorted(detail.tasks, key=lambda t: (t.due_at is None, t.due_at or t.created_at)):  # soonest due first
        props = properties(specs.get(task.element_id))
        if props.get(STAGE_PROPERTY):
            steps.append(ClientStep(props[STAGE_PROPERTY], props.get(NEXT_STEP_PROPERTY), task.due_at))
    task_elements = {t.element_id for t in detail.tasks}
    for element_id in detail.active_elements:
        props = properties(specs.get(element_id))
        if element_id not in task_elements and props.get(STAGE_PROPERTY):
            steps.append(ClientStep(props[STAGE_PROPERTY], props.get(NEXT_STEP_PROPERTY)))
    if steps:
        return tuple(_unique(steps))
    return (ClientStep(WORKING, None, min((t.due_at for t in detail.tasks if t.due_at), default=None)),)


def _unique(steps: list[ClientStep]) -> list[ClientStep]:
    seen, kept = set(), []
    for step in steps:
        if (step.stage, step.next_step) not in seen:
            seen.add((step.stage, step.next_step))
            kept.append(step)
    return kept


def _model_of(engine: Engine, instance_id: int):
    with engine.read_session() as session:
        definition_id = session.scalar(select(ProcessInstance.definition_id).where(ProcessInstance.id == instance_id))
        return definitions.model_for(engine.services, session, definition_id)


def _specs_by_id(model) -> dict[str, Any]:
    return {spec.bpmn_id: spec for group in (model.spec, *model.subprocess_specs.values()) if group is not None
            for spec in group.task_specs.values() if getattr(spec, "bpmn_id", None)}


def _email_fields(model) -> tuple[str, ...]:
    """The start form's e-mail fields first (the address the client gave), then the usual names."""
    form_key, _ = start_form_keys(model)
    marked = [name for name, prop in properties_of(model.forms[form_key]).items()
              if prop.get("format") == "email"] if form_key else []
    return (*marked, *(f for f in EMAIL_FIELDS if f not in marked))


def _first_text(data: dict[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = data.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None
