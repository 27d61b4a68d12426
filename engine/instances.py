"""Process instances: start, change in one transaction under an optimistic lock, and read back."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Connection, bindparam, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import audit, definitions, facts, notifications, tasks, timers
from .database import connection_of
from .errors import (
    ConcurrentUpdate,
    InstanceNotFound,
    InstanceNotRunning,
    InvalidInput,
    MessageNotCorrelated,
    ScriptError,
    TaskAlreadyCompleted,
    TaskNotFound,
    TaskNotReady,
)
from .models import ProcessInstance, ReferenceCounter
from .notifications import Outbox
from .prepared import Prepared
from .scripts import SandboxViolation
from .serializer import StateSerializer
from .users import SYSTEM_USER, UserView, get_user
from .views import InstanceDetail, InstanceView

if TYPE_CHECKING:
    from .runtime import Engine

__all__ = ["StateSerializer", "SaveResult"]

LABEL_KEYS = ("client_name", "customer_name", "company_name", "submitter_name", "name")


@dataclass
class SaveResult:
    """What one committed change did; handed to save listeners (timer scheduling, notifications)."""

    instance_id: int
    status: str
    definition_id: int
    new_timers: list[tuple[int, Any]] = field(default_factory=list)
    new_notifications: list[int] = field(default_factory=list)


INSTANCE = ProcessInstance.__table__
_ROW_COLUMNS = [c for c in INSTANCE.c if c.name != "state"]


@dataclass
class InstanceRow:
    """The columns of one `process_instance` row except its state (read and written with Core statements)."""

    id: int | None
    definition_id: int
    process_key: str
    version: int
    status: str
    reference: str | None
    label: str | None
    started_by: str | None
    started_at: Any
    updated_at: Any
    ended_at: Any
    serializer_version: str
    lock_version: int
    error_message: str | None
    error_element_id: str | None
    error_line: int | None

    def listed(self) -> tuple:
        """The columns listings and indexes read: a save writes them only when one of them changed."""
        return (self.status, self.label, self.ended_at, self.error_message, self.error_element_id,
                self.error_line)


# Statements on the hot path are built once: building a SQLAlchemy expression costs more than running it.
_SELECT_ROW = Prepared(select(*_ROW_COLUMNS).where(INSTANCE.c.id == bindparam("instance_id")))
_SELECT_STATE = Prepared(select(INSTANCE.c.state).where(INSTANCE.c.id == bindparam("instance_id")))
_SET_STATE = dict(state=bindparam("b_state"), serializer_version=bindparam("b_serializer"),
                  lock_version=bindparam("b_new_lock"), updated_at=bindparam("b_updated"))
_LOCKED_ROW = (INSTANCE.c.id == bindparam("b_id"), INSTANCE.c.lock_version == bindparam("b_lock"))
# Most steps change only the state: leaving the indexed columns out of the SET spares SQLite rewriting
# their index entries (a page each in the write-ahead log).
_UPDATE_STATE = Prepared(update(INSTANCE).where(*_LOCKED_ROW).values(**_SET_STATE))
_UPDATE_ROW = Prepared(update(INSTANCE).where(*_LOCKED_ROW).values(
    **_SET_STATE, status=bindparam("b_status"), label=bindparam("b_label"), ended_at=bindparam("b_ended"),
    error_message=bindparam("b_error"), error_element_id=bindparam("b_error_element"),
    error_line=bindparam("b_error_line")))


_INSERT_ROW = Prepared(insert(INSTANCE).returning(INSTANCE.c.id), keys=[c.name for c in INSTANCE.c if c.name != "id"])


_HUMAN = tasks.HUMAN
# A task's open sibling rows (what the rules and `tasks.sync_rows` read of them) and its instance's row, in one
# statement: the first thing a completion or a claim reads.
_TASKS_WITH_ROW = Prepared(
    select(*(_HUMAN.c[name] for name in ("id", "element_id", "lane", "form_key", "ui_form_key", "claimed_by",
                                         "due_at", "created_at")),
           *[c.label(f"i_{c.name}") for c in _ROW_COLUMNS])
    .join_from(_HUMAN, INSTANCE, _HUMAN.c.instance_id == INSTANCE.c.id)
    .where(_HUMAN.c.instance_id == select(_HUMAN.c.instance_id).where(_HUMAN.c.id == bindparam("task_id"))
           .scalar_subquery()))


_ROW_FIELDS = [(c.name, f"i_{c.name}") for c in _ROW_COLUMNS]


def _tasks_with_row(conn, task_id: str) -> tuple[dict[str, Any], InstanceRow | None]:
    found = _TASKS_WITH_ROW.all(conn, {"task_id": task_id})
    if not found:
        return {}, None
    first = found[0]
    return {r.id: r for r in found}, InstanceRow(**{name: getattr(first, label) for name, label in _ROW_FIELDS})


def _load_row(conn, instance_id: int) -> InstanceRow | None:
    found = _SELECT_ROW.one_or_none(conn, {"instance_id": instance_id})
    return InstanceRow(**found._asdict()) if found is not None else None


@dataclass
class Work:
    """The state a unit of work operates on."""

    conn: Connection
    row: InstanceRow
    workflow: BpmnWorkflow
    model: Any
    actor: UserView
    now: Any
    outbox: Outbox = field(default_factory=Outbox)
    events: list[dict[str, Any]] = field(default_factory=list)
    had_timers: bool = False
    open_tasks: dict[str, Any] | None = None
    snapshot: Snapshot | None = None
    listed: tuple = ()

    def __post_init__(self) -> None:
        self.listed = self.row.listed()

    def record(self, kind: str, *, element_id: str | None = None, task_id: str | None = None, **detail) -> None:
        self.events.append({"instance_id": self.row.id, "at": self.now, "actor": self.actor.username, "kind": kind,
                            "element_id": element_id, "task_id": task_id, "detail": detail})


@dataclass
class Snapshot:
    """The tasks that derived rows are made of, found in one walk over the task tree."""

    ready_human: list
    waiting_timers: list
    errors: list


_LIVE = TaskState.READY | TaskState.WAITING | TaskState.ERROR


def snapshot(workflow: BpmnWorkflow) -> Snapshot:
    # A scan of the task dicts (the top workflow's and every subprocess's) finds the same tasks as Spiff's
    # tree iterator at a fraction of its cost: children of tasks that have not started are never live.
    ready, waiting, errors = [], [], []
    for tasks_of in (workflow.tasks, *(sub.tasks for sub in workflow.subprocesses.values())):
        for task in tasks_of.values():
            state = task.state
            if not state & _LIVE:
                continue
            if state == TaskState.READY:
                if task.task_spec.manual:
                    ready.append(task)
            elif state == TaskState.WAITING:
                if timers.is_timer(task):
                    waiting.append(task)
            else:
                errors.append(task)
    return Snapshot(ready, waiting, errors)


def view(row: ProcessInstance | InstanceRow) -> InstanceView:
    return InstanceView(row.id, row.process_key, row.version, row.status, row.reference, row.label,
                        row.started_by, row.started_at, row.updated_at, row.ended_at, row.lock_version,
                        _error_text(row))


def _error_text(row: ProcessInstance | InstanceRow) -> str | None:
    if not row.error_message:
        return None
    return str(ScriptError(row.error_message, element_id=row.error_element_id, line=row.error_line))


# -- running ------------------------------------------------------------------------------------------------

def _step_recorder(work: Work):
    def did_complete(task) -> None:
        spec = task.task_spec
        if isinstance(spec, ExclusiveGateway | InclusiveGateway):
            taken = [c.task_spec.bpmn_id or c.task_spec.name for c in task.children
                     if c.state not in (TaskState.MAYBE, TaskState.LIKELY, TaskState.CANCELLED)]
            work.record("gateway_taken", element_id=spec.bpmn_id, task_id=str(task.id), taken=taken)
        elif spec.__class__.__name__ in ("ScriptTask", "BusinessRuleTask"):
            work.record("script_ran" if spec.__class__.__name__ == "ScriptTask" else "rule_evaluated",
                        element_id=spec.bpmn_id, task_id=str(task.id))
    return did_complete


def _run(work: Work, step: Callable[[], None]) -> None:
    """Run `step` then the engine; a script failure leaves the instance in `error` at the failing task."""
    try:
        with work.outbox:
            step()
            work.workflow.do_engine_steps(did_complete_task=_step_recorder(work))
            work.snapshot = snapshot(work.workflow)
            timers.anchor_due_times(work.workflow, work.snapshot.waiting_timers, work.now)
    except (SpiffWorkflowException, SandboxViolation) as err:
        _mark_error(work, err)


def _script_error(err: Exception) -> ScriptError:
    task = getattr(err, "task", None)
    element_id = task.task_spec.bpmn_id if task is not None else getattr(err, "task_spec_id", None)
    inner = getattr(err, "exception", None) or err
    message = str(inner) if not isinstance(inner, WorkflowException) else str(inner.args[0] if inner.args else inner)
    if isinstance(inner, SandboxViolation):
        message = f"sandbox: {message}"
    elif inner is not err:
        message = f"{inner.__class__.__name__}: {message}"
    line = getattr(err, "line_number", None) or None
    return ScriptError(message, element_id=element_id, line=line)


def _mark_error(work: Work, err: Exception) -> None:
    script_error = _script_error(err)
    work.row.status = "error"
    work.row.error_message = script_error.message
    work.row.error_element_id = script_error.element_id
    work.row.error_line = script_error.line
    work.record("error", element_id=script_error.element_id, message=script_error.message,
                line=script_error.line)


def _status(workflow: BpmnWorkflow, snap: Snapshot) -> str:
    if workflow.is_completed():
        return "completed" if workflow.success else "cancelled"
    return "error" if snap.errors else "running"


def _label(data: dict[str, Any]) -> str | None:
    for key in LABEL_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:255]
    return None


def _save(engine: Engine, work: Work) -> SaveResult:
    """Write state and derived rows; the optimistic-lock UPDATE goes first, so a stale version changes nothing."""
    row, workflow, now, conn = work.row, work.workflow, work.now, work.conn
    snap = work.snapshot or snapshot(workflow)
    previous = row.status
    if row.status != "error" or not snap.errors:
        row.status = _status(workflow, snap)
        if row.status != "error":
            row.error_message = row.error_element_id = row.error_line = None
    row.updated_at = now
    row.label = _label(workflow.data) or _label(_last_data(workflow)) or row.label
    if row.status in ("completed", "cancelled") and row.ended_at is None:
        row.ended_at = now
    _write_state(engine, work, engine.serializer.dumps(workflow))
    tasks.sync_rows(conn, row, snap.ready_human, now, work.open_tasks)
    new_timers = timers.sync_rows(conn, row.id, workflow, snap.waiting_timers, now, work.had_timers)
    outgoing = notifications.write_rows(conn, row.id, work.outbox.items, now) if row.status != "error" else []
    if row.status != previous and row.status in ("completed", "cancelled"):
        work.record(f"instance_{row.status}")
    facts.record(conn, work, snap.ready_human)
    audit.insert(conn, work.events)
    return SaveResult(row.id, row.status, row.definition_id, new_timers, outgoing)


def _write_state(engine: Engine, work: Work, state: str) -> None:
    """Insert a new instance's row with its first state, or update the state under the optimistic lock."""
    row, conn = work.row, work.conn
    if row.id is None:
        row.lock_version += 1
        row.serializer_version = engine.serializer.version
        row.id = _INSERT_ROW.scalar(conn, {**vars(row), "state": state})  # (asdict would deep-copy every value)
        for event in work.events:  # recorded before the row had an id
            event["instance_id"] = row.id
        return
    params = {"b_id": row.id, "b_lock": row.lock_version, "b_state": state,
              "b_serializer": engine.serializer.version, "b_new_lock": row.lock_version + 1, "b_updated": work.now}
    if row.listed() == work.listed:
        updated = _UPDATE_STATE.execute(conn, params)
    else:
        updated = _UPDATE_ROW.execute(conn, {
            **params, "b_status": row.status, "b_label": row.label, "b_ended": row.ended_at,
            "b_error": row.error_message, "b_error_element": row.error_element_id, "b_error_line": row.error_line})
    if updated != 1:
        raise StaleDataError(f"instance {row.id} is no longer at version {row.lock_version}")
    row.lock_version += 1


def _last_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    last = workflow.last_task
    return last.data if last is not None else {}


def _restore(engine: Engine, db: Session | Connection, row: ProcessInstance | InstanceRow):
    """The instance's workflow: from the live cache when its version matches, else deserialized."""
    model = definitions.model_for(engine, db, row.definition_id)
    workflow = engine.live.take(row.id, row.lock_version)
    if workflow is None:
        state = getattr(row, "state", None)
        if state is None:
            state = _SELECT_STATE.scalar(connection_of(db), {"instance_id": row.id})
        workflow = engine.serializer.loads(state, model.spec, model.subprocess_specs)
        workflow.script_engine = engine.script_engine
    return workflow, model


Actor = UserView | str | None


def _actor(conn: Connection, actor: Actor) -> UserView:
    if isinstance(actor, UserView):
        return actor
    return SYSTEM_USER if actor is None else get_user(conn, actor)


def change(engine: Engine, instance_id: int | None, actor: Actor, action: Callable[[Work], Any], *,
           task_id: str | None = None, expected_version: int | None = None,
           allow_error: bool = False, allow_ended: bool = False) -> tuple[Any, InstanceView]:
    """Load, act, save in one transaction; a concurrent change raises `ConcurrentUpdate` and saves nothing.

    `allow_ended` lets an action rewrite a completed or cancelled instance (erasure of personal data).

    With `task_id` the instance is the one holding that open task (its open task rows are loaded once and
    handed to the action as `work.open_tasks`)."""
    workflow = None
    try:
        with engine.write_connection() as conn:
            open_tasks = None
            if task_id is not None:
                open_tasks, row = _tasks_with_row(conn, task_id)
                if task_id not in open_tasks:
                    _raise_missing_task(conn, task_id)
                instance_id = row.id
            else:
                row = _load_row(conn, instance_id)
            user = _actor(conn, actor)
            if row is None:
                raise InstanceNotFound(f"no instance with id {instance_id}")
            if expected_version is not None and row.lock_version != expected_version:
                raise ConcurrentUpdate(f"instance {instance_id} changed since version {expected_version} "
                                       f"(now {row.lock_version}); reload and try again")
            if (row.status in ("completed", "cancelled") and not allow_ended) or \
                    (row.status == "error" and not allow_error):
                raise InstanceNotRunning(f"instance {instance_id} is {row.status}"
                                         + (f": {_error_text(row)}" if row.status == "error" else ""))
            workflow, model = _restore(engine, conn, row)
            work = Work(conn, row, workflow, model, user, engine.clock.now(),
                        had_timers=model.has_timers, open_tasks=open_tasks)
            outcome = action(work)
            workflow = work.workflow  # an action may replace it (erasure restores a rewritten state)
            saved = _save(engine, work)
            result = view(row)
    except (StaleDataError, OperationalError) as err:
        if isinstance(err, OperationalError) and "locked" not in str(err).lower() \
                and "could not serialize" not in str(err).lower():
            raise
        raise ConcurrentUpdate(f"instance {instance_id} was changed by someone else; nothing was saved, "
                               "reload and try again") from err
    # On any other error the workflow object may be half-changed: it is simply not put back in the cache.
    engine.live.put(result.id, result.lock_version, workflow)
    engine.notify_saved([saved])
    return outcome, result


def _raise_missing_task(conn, task_id: str) -> None:
    done = conn.execute(select(audit.Event.id).where(audit.Event.task_id == task_id,
                                                     audit.Event.kind == "task_completed").limit(1)).first()
    if done:
        raise TaskAlreadyCompleted(f"task {task_id} was already completed")
    raise TaskNotFound(f"no open task with id {task_id}")


# -- references -------------------------------------------------------------------------------------------

def _counter_upsert(upsert):
    stmt = upsert(ReferenceCounter).values(scope=bindparam("scope"), value=1)
    stmt = stmt.on_conflict_do_update(index_elements=["scope"], set_={"value": ReferenceCounter.value + 1})
    return Prepared(stmt.returning(ReferenceCounter.value))


_NEXT_NUMBER = {"postgresql": _counter_upsert(pg_insert), "sqlite": _counter_upsert(sqlite_insert)}


def next_reference(conn: Connection, prefix: str, year: int) -> str:
    """The next number of a prefix/year, safe under concurrency (one atomic upsert)."""
    scope = f"{prefix}-{year}"
    value = _NEXT_NUMBER[conn.dialect.name].scalar(conn, {"scope": scope})
    return f"{scope}-{value:06d}"


# -- actions ----------------------------------------------------------------------------------------------

def start(engine: Engine, key: str, data: dict[str, Any], actor: Actor) -> InstanceView:
    if not isinstance(data, dict):
        raise InvalidInput("start data must be a JSON object")
    with engine.write_connection() as conn:
        actor = _actor(conn, actor)
        definition = definitions.latest(conn, key)
        model = definitions.model_for(engine, conn, definition.id)
        data = engine.forms.clean_start(model, data)
        now = engine.clock.now()
        reference = next_reference(conn, model.reference_prefix, now.year)
        workflow = BpmnWorkflow(model.spec, model.subprocess_specs, script_engine=engine.script_engine)
        start_data = {**data, "reference": reference}
        values = dict(definition_id=definition.id, process_key=key, version=definition.version, status="running",
                      reference=reference, label=_label(data), started_by=actor.username, started_at=now,
                      updated_at=now, ended_at=None, serializer_version="", lock_version=0, error_message=None,
                      error_element_id=None, error_line=None)
        row = InstanceRow(id=None, **values)  # inserted by `_save`, with its first state
        work = Work(conn, row, workflow, model, actor, now)
        work.record("instance_started", key=key, version=definition.version, reference=reference,
                    fields=sorted(data))

        def seed() -> None:
            for task in workflow.tasks.values():  # a new workflow: only its start event is ready
                if task.state == TaskState.READY:
                    task.data.update(start_data)
        _run(work, seed)
        saved = _save(engine, work)
        result = view(row)
    engine.live.put(result.id, result.lock_version, workflow)
    engine.notify_saved([saved])
    return result


def _ready_task(work: Work, task_id: str):
    try:
        task = work.workflow.get_task_from_id(UUID(task_id))
    except (ValueError, WorkflowException) as err:
        raise TaskNotFound(f"no task {task_id} in instance {work.row.id}") from err
    if task is None:
        raise TaskNotFound(f"no task {task_id} in instance {work.row.id}")
    if task.state == TaskState.COMPLETED:
        raise TaskAlreadyCompleted(f"task {task_id} was already completed")
    if task.state != TaskState.READY or not task.task_spec.manual:
        raise TaskNotReady(f"task {task_id} is not ready (it is {TaskState.get_name(task.state).lower()})")
    return task


def complete(engine: Engine, task_id: str, data: dict[str, Any], actor: Actor,
             expected_version: int | None = None) -> InstanceView:
    def act(work: Work) -> None:
        current = work.open_tasks[task_id]
        tasks.check_may_work(work.actor, current)
        task = _ready_task(work, task_id)
        tasks.check_separation(work.conn, work.actor, work.row.id, task.task_spec)
        cleaned = engine.forms.clean(work.model, current.form_key, current.ui_form_key, data, dict(task.data))
        changed = sorted(k for k, v in cleaned.items() if task.data.get(k, object()) != v)

        def step() -> None:
            task.data.update(cleaned)
            task.run()
        work.record("task_completed", element_id=task.task_spec.bpmn_id, task_id=task_id,
                    name=task.task_spec.bpmn_name, lane=current.lane, fields=changed)
        _run(work, step)

    _, result = change(engine, None, actor, act, task_id=task_id, expected_version=expected_version)
    return result


def claim(engine: Engine, task_id: str, actor: Actor, claim: bool):
    def act(work: Work):
        current = work.open_tasks[task_id]
        if claim:
            tasks.check_may_work(work.actor, current, claiming=True)
            holder = work.actor.username
        else:
            if current.claimed_by is None:
                raise TaskNotReady(f"task {task_id} is not claimed")
            if current.claimed_by != work.actor.username and not work.actor.is_admin:
                raise tasks.NotAllowed(f"task is claimed by {current.claimed_by}, not {work.actor.username}")
            holder = None
        tasks.set_claim(work.conn, task_id, holder)
        work.record("task_claimed" if claim else "task_unclaimed", element_id=current.element_id,
                    task_id=task_id)

    # A claim changes no workflow state but still bumps lock_version, so a claim race has one winner.
    change(engine, None, actor, act, task_id=task_id)
    return engine.task(task_id)


def retry(engine: Engine, instance_id: int, data: dict[str, Any], actor: UserView) -> InstanceView:
    def act(work: Work) -> None:
        failed = work.workflow.get_tasks(state=TaskState.ERROR)
        if work.row.status != "error" or not failed:
            raise InstanceNotRunning(f"instance {instance_id} is {work.row.status}, not in error")

        def step() -> None:
            for task in failed:
                task.data.update(data)
                task._set_state(TaskState.READY)
        work.record("instance_retried", fields=sorted(data), elements=[t.task_spec.bpmn_id for t in failed])
        work.row.status = "running"
        _run(work, step)

    _, result = change(engine, instance_id, actor, act, allow_error=True)
    return result


def cancel(engine: Engine, instance_id: int, actor: UserView, reason: str) -> InstanceView:
    def act(work: Work) -> None:
        work.workflow.cancel()
        work.row.status = "cancelled"
        work.record("instance_cancelled", reason=reason)

    _, result = change(engine, instance_id, actor, act, allow_error=True)
    return result


def fire_timer(engine: Engine, timer_id: int) -> str:
    with engine.read_session() as session:
        timer = timers.get_row(session.connection(), timer_id)
        if timer is None or timer.fired_at or timer.cancelled_at:
            return "done"
        if timer.due_at > engine.clock.now():
            return "early"
        instance_id, task_id = timer.instance_id, timer.task_id

    def act(work: Work) -> str:
        row = timers.get_row(work.conn, timer_id)
        if row is None or row.fired_at or row.cancelled_at:
            return "done"
        try:
            task = work.workflow.get_task_from_id(UUID(task_id))
        except WorkflowException:
            task = None
        if task is None or task.state != TaskState.WAITING:
            timers.close(work.conn, timer_id, cancelled_at=work.now)
            return "done"
        timers.close(work.conn, timer_id, fired_at=work.now)
        work.record("timer_fired", element_id=row.element_id, task_id=task_id, timer_id=timer_id,
                    due_at=row.due_at.isoformat(), late_ms=round((work.now - row.due_at).total_seconds() * 1000))
        _run(work, lambda: timers.fire(work.workflow, task))
        return "fired"

    try:
        outcome, _ = change(engine, instance_id, SYSTEM_USER, act)
    except InstanceNotRunning:
        with engine.write_connection() as conn:
            row = timers.get_row(conn, timer_id)
            if row is not None and not row.fired_at and not row.cancelled_at:
                timers.close(conn, timer_id, cancelled_at=engine.clock.now())
        return "done"
    return outcome


def send_message(engine: Engine, name: str, correlation: dict[str, Any], payload: dict[str, Any],
                 actor: UserView) -> InstanceView:
    """Deliver a BPMN message to the one running instance waiting for it with matching correlation values."""
    if not isinstance(correlation, dict) or not isinstance(payload, dict):
        raise InvalidInput("correlation and payload must be JSON objects")
    candidates = _waiting_for_message(engine, name, correlation)
    if not candidates:
        raise MessageNotCorrelated(f"no running instance waits for message {name!r} with {correlation}")

    def act(work: Work) -> None:
        event = BpmnEvent(MessageEventDefinition(name), payload, correlations=dict(correlation))
        work.record("message_received", message=name, correlation=correlation, fields=sorted(payload))
        _run(work, lambda: work.workflow.catch(event))

    _, result = change(engine, candidates[0], actor, act)
    return result


def _waiting_for_message(engine: Engine, name: str, correlation: dict[str, Any]) -> list[int]:
    with engine.read_session() as session:
        query = select(ProcessInstance.id).where(ProcessInstance.status == "running")
        if "reference" in correlation:
            query = query.where(ProcessInstance.reference == str(correlation["reference"]))
        ids = list(session.scalars(query.order_by(ProcessInstance.id)))
    matches = []
    for instance_id in ids:
        with engine.read_session() as session:
            row = session.get(ProcessInstance, instance_id)
            workflow, _model = _restore(engine, session, row)
            lock_version = row.lock_version
        waiting = [e for e in workflow.waiting_events() if e.event_type == "MessageEventDefinition"
                   and e.name == name]
        engine.live.put(instance_id, lock_version, workflow)
        if waiting and _correlates(workflow, correlation):
            matches.append(instance_id)
    return matches


def _correlates(workflow: BpmnWorkflow, correlation: dict[str, Any]) -> bool:
    data = {**workflow.data, **_last_data(workflow)}
    return all(str(data.get(k)) == str(v) for k, v in correlation.items())


# -- reading ----------------------------------------------------------------------------------------------

def task_data(engine: Engine, task_id: str) -> dict[str, Any]:
    with engine.read_session() as session:
        human = tasks.get_row(session.connection(), task_id)
        if human is None:
            _raise_missing_task(session.connection(), task_id)
        row = session.get(ProcessInstance, human.instance_id)
        workflow, _ = _restore(engine, session, row)
        lock_version = row.lock_version
    task = workflow.get_task_from_id(UUID(task_id))
    data = dict(task.data)
    engine.live.put(human.instance_id, lock_version, workflow)
    return data


def detail(engine: Engine, instance_id: int) -> InstanceDetail:
    with engine.read_session() as session:
        row = session.get(ProcessInstance, instance_id)
        if row is None:
            raise InstanceNotFound(f"no instance with id {instance_id}")
        workflow, model = _restore(engine, session, row)
        lock_version = row.lock_version
        humans = session.connection().execute(tasks.query(instance_id=instance_id)).all()
        task_views = [tasks.view(h, model) for h in humans]
        timer_views = timers.timers_of(session, instance_id)
        events = audit.events_of(session, instance_id)
        instance_view = view(row)
    completed = sorted({t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)
                        if t.task_spec.bpmn_id})
    active = sorted({t.task_spec.bpmn_id for t in workflow.get_tasks(
        state=TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR) if t.task_spec.bpmn_id})
    data = dict(workflow.data)
    data.update(_last_data(workflow))
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
        data.update(task.data)
    engine.live.put(instance_id, lock_version, workflow)
    return InstanceDetail(instance_view, _jsonable(data), task_views, timer_views, events, completed, active)


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data, default=str))


def search(session: Session, *, key: str | None = None, status: str | None = None, text: str | None = None,
           limit: int = 100, offset: int = 0) -> list[InstanceView]:
    query = select(ProcessInstance)
    if key:
        query = query.where(ProcessInstance.process_key == key)
    if status:
        query = query.where(ProcessInstance.status == status)
    if text:
        like = f"%{text.strip()}%"
        query = query.where(or_(ProcessInstance.reference.ilike(like), ProcessInstance.label.ilike(like)))
    query = query.order_by(ProcessInstance.id.desc()).limit(limit).offset(offset)
    return [view(r) for r in session.scalars(query)]
