"""The use cases that change an instance: start, complete, claim, retry, cancel, fire a timer, deliver a message."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine.core import audit, definitions, reads, spiff, tasks, timers
from engine.core.db.models import ProcessInstance
from engine.core.references import next_reference
from engine.core.rows import InstanceRow
from engine.core.unit_of_work import (
    Actor,
    Work,
    change,
    check_sizes,
    label_of,
    last_data,
    restore,
    run_step,
    save,
    start_reads,
    view,
)
from engine.core.users import SYSTEM_USER, UserView, get_user
from engine.errors import (
    InstanceNotRunning,
    InvalidInput,
    MessageNotCorrelated,
    NotAllowed,
    SeparationRefused,
    TaskAlreadyCompleted,
    TaskNotFound,
    TaskNotReady,
)
from engine.results import InstanceView, TaskView

if TYPE_CHECKING:
    from engine.core.services import Services


def start(services: Services, key: str, data: dict[str, Any], actor: Actor) -> InstanceView:
    if not isinstance(data, dict):
        raise InvalidInput("start data must be a JSON object")
    check_sizes(services, data)
    with services.step_connection() as conn:
        actor, definition, new_id = start_reads(conn, actor, key)
        model = definitions.model_for(services, conn, definition.id)
        data = services.forms.clean_start(model, data)
        now = services.clock.now()
        with services.step_transaction(conn):
            reference = next_reference(conn, model.reference_prefix, now.year)
            workflow = BpmnWorkflow(model.spec, model.subprocess_specs, script_engine=services.script_engine)
            start_data = {**data, "reference": reference}
            values = dict(definition_id=definition.id, process_key=key, version=definition.version, status="running",
                          reference=reference, label=label_of(data), started_by=actor.username, started_at=now,
                          updated_at=now, ended_at=None, serializer_version="", lock_version=0, error_message=None,
                          error_element_id=None, error_line=None)
            row = InstanceRow(id=None, **values)  # inserted by `save`, with its first state
            work = Work(conn, row, workflow, model, actor, now, new_id=new_id)
            work.record("instance_started", key=key, version=definition.version, reference=reference,
                        fields=sorted(data))

            def seed() -> None:
                for task in workflow.tasks.values():  # a new workflow: only its start event is ready
                    if task.state == TaskState.READY:
                        task.data.update(start_data)
            run_step(work, seed)
            saved = save(services, work)
        result = view(row)
    services.live.put(result.id, result.lock_version, workflow)
    services.notify_saved([saved])
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


def complete(services: Services, task_id: str, data: dict[str, Any], actor: Actor,
             expected_version: int | None = None) -> InstanceView:
    def act(work: Work) -> None:
        current = work.open_tasks[task_id]
        tasks.check_may_work(work.actor, current)
        task = _ready_task(work, task_id)
        tasks.check_separation(work.conn, work.actor, work.row.id, task.task_spec)
        check_sizes(services, data)
        cleaned = services.forms.clean(work.model, current.form_key, current.ui_form_key, data, dict(task.data))
        changed = sorted(k for k, v in cleaned.items() if task.data.get(k, object()) != v)

        def step() -> None:
            task.data.update(cleaned)
            task.run()
        work.record("task_completed", element_id=task.task_spec.bpmn_id, task_id=task_id,
                    name=task.task_spec.bpmn_name, lane=current.lane, fields=changed)
        run_step(work, step)

    with _audited_refusal(services, "complete", task_id):
        _, result = change(services, None, actor, act, task_id=task_id, expected_version=expected_version)
    return result


class _audited_refusal:
    """Record a refused sign-off (`task_refused`) in a transaction of its own: the refused one rolls back."""

    def __init__(self, services: Services, attempt: str, task_id: str, on_behalf_of: str | None = None,
                 by: Actor = None):
        self.services, self.attempt, self.task_id, self.on_behalf_of = services, attempt, task_id, on_behalf_of
        self.by = by if isinstance(by, str) or by is None else getattr(by, "username", None)

    def __enter__(self):
        return self

    def __exit__(self, kind, err, tb) -> bool:
        if isinstance(err, SeparationRefused):
            detail = {"attempt": self.attempt, "reason": str(err)}
            if self.on_behalf_of:
                detail["assignee"] = self.on_behalf_of
            with self.services.write_connection() as conn:
                audit.insert(conn, [{"instance_id": err.instance_id, "at": self.services.clock.now(),
                                     "actor": self.by if self.on_behalf_of else err.username,
                                     "kind": "task_refused", "element_id": err.element_id, "task_id": self.task_id,
                                     "detail": detail}])
        return False


def claim(services: Services, task_id: str, actor: Actor, claim: bool):
    def act(work: Work):
        current = work.open_tasks[task_id]
        if claim:
            tasks.check_may_work(work.actor, current, claiming=True)
            # A barred user may not hold a sign-off either: the claim would keep it from colleagues.
            tasks.check_separation(work.conn, work.actor, work.row.id, _ready_task(work, task_id).task_spec)
            holder = work.actor.username
        else:
            if not work.actor.may_work_in(current.lane):
                # Before the claim check, so another lane's task reveals nothing of its state (403, not 409).
                raise tasks.NotAllowed(f"{work.actor.username} does not have the role {current.lane!r} this task needs")
            if current.claimed_by is None:
                raise TaskNotReady(f"task {task_id} is not claimed")
            if current.claimed_by != work.actor.username and not work.actor.is_admin:
                raise tasks.NotAllowed(f"task is claimed by {current.claimed_by}, not {work.actor.username}")
            holder = None
        tasks.set_claim(work.conn, task_id, holder)
        work.record("task_claimed" if claim else "task_unclaimed", element_id=current.element_id,
                    task_id=task_id)

    # A claim changes no workflow state but still bumps lock_version, so a claim race has one winner.
    with _audited_refusal(services, "claim" if claim else "unclaim", task_id):
        change(services, None, actor, act, task_id=task_id)
    return reads.task_view(services, task_id)


# Decides whether `actor` may give the task row to `assignee` (None: release it); returns the event kind
# ("task_assigned", "task_reassigned", "task_delegated", "task_released", ...) or raises NotAllowed.
AssignRule = Callable[[UserView, Any, "str | None"], str]
ASSIGNED_TEMPLATE = "task_assigned"


def assign(services: Services, task_id: str, actor: Actor, assignee: str | None, rule: AssignRule) -> TaskView:
    """Give an open task to `assignee` or release it (None): audited, notified, under the optimistic lock.

    The new holder must be active, work in the task's lane and not be barred by separation of duties."""
    def act(work: Work) -> None:
        current = tasks.get_row(work.conn, task_id)  # the whole row: the rule and the event need its name
        kind = rule(work.actor, current, assignee)
        if assignee is None:
            if current.claimed_by is None:
                raise TaskNotReady(f"task {task_id} is not assigned to anyone")
        else:
            target = get_user(work.conn, assignee)
            if current.claimed_by == target.username:
                raise InvalidInput(f"“{current.name}” is already assigned to {target.username}")
            if not target.active:
                raise NotAllowed(f"{target.username} is not an active user")
            if not target.may_work_in(current.lane):
                raise NotAllowed(f"{target.username} does not have the role {current.lane!r} this task needs")
            tasks.check_separation(work.conn, target, work.row.id, _ready_task(work, task_id).task_spec)
            if target.email and target.username != work.actor.username:
                work.outbox.items.append({"template": ASSIGNED_TEMPLATE, "recipient": target.email, "payload": {
                    "reference": work.row.reference, "task_name": current.name, "task_id": task_id,
                    "assignee": target.display_name or target.username, "assigned_by": work.actor.display_name
                    or work.actor.username}})
        tasks.set_claim(work.conn, task_id, assignee)
        work.record(kind, element_id=current.element_id, task_id=task_id, name=current.name, lane=current.lane,
                    previous=current.claimed_by, assignee=assignee)

    with _audited_refusal(services, "assign", task_id, on_behalf_of=assignee, by=actor):
        change(services, None, actor, act, task_id=task_id)
    return reads.task_view(services, task_id)


def set_data(services: Services, instance_id: int, values: dict[str, Any], actor: UserView,
             reason: str) -> InstanceView:
    """Correct variables of a running (or failed) instance: every live token's data gets the new values.

    The audit event names the variables and the reason, never the values (they may be personal data)."""
    if not reason.strip():
        raise InvalidInput("give a reason for changing the data of a running case")

    def act(work: Work) -> None:
        live = [t for t in work.workflow.get_tasks() if t.state & _CORRECTABLE]
        if not live:
            raise InstanceNotRunning(f"instance {instance_id} has no open step whose data could change")
        for task in live:
            task.data.update(values)
        work.record("variable_changed", fields=sorted(values), reason=reason.strip())

    _, result = change(services, instance_id, actor, act, allow_error=True)
    return result


_CORRECTABLE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


def retry(services: Services, instance_id: int, data: dict[str, Any], actor: UserView) -> InstanceView:
    check_sizes(services, data)  # data given to a failed task is bounded like a form's

    def act(work: Work) -> None:
        if work.row.status != "error":
            raise InstanceNotRunning(f"instance {instance_id} is {work.row.status}, not in error")
        failed = work.workflow.get_tasks(state=TaskState.ERROR)
        if data and not failed:
            raise InvalidInput(f"instance {instance_id} stopped outside a task and kept its last good state, so "
                               "retry takes no data: retry without --data, then give the data to its open task")

        def step() -> None:  # with no failed task, the engine simply runs on from the last good state
            for task in failed:
                task.data.update(data)
                if timers.is_timer(task):
                    timers.forget_due(task)  # its due time is computed again, from the fixed data
                    spiff.make_waiting(task)
                else:
                    spiff.make_ready(task)
        work.record("instance_retried", fields=sorted(data), elements=[t.task_spec.bpmn_id for t in failed])
        work.row.status = "running"
        run_step(work, step)

    _, result = change(services, instance_id, actor, act, allow_error=True)
    return result


def cancel(services: Services, instance_id: int, actor: UserView, reason: str) -> InstanceView:
    def act(work: Work) -> None:
        for task in work.workflow.get_tasks(state=TaskState.ERROR):
            spiff.make_ready(task)  # so the failed step is cancelled with the rest: the case ends cancelled
        work.workflow.cancel()
        work.row.status = "cancelled"
        work.record("instance_cancelled", reason=reason)

    _, result = change(services, instance_id, actor, act, allow_error=True)
    return result


class _NotFired(Exception):
    """Ends a timer's unit of work without saving: the timer was already closed, or is not due yet."""

    def __init__(self, outcome: str):
        super().__init__(outcome)
        self.outcome = outcome


def open_timer_due(services: Services, timer_id: int):
    """The due time of a timer not yet fired or cancelled (None otherwise): what a worker needs to hold it."""
    with services.quick_read() as conn:
        row = timers.get_row(conn, timer_id)
    return None if row is None or row.fired_at or row.cancelled_at else row.due_at


def fire_timer(services: Services, timer_id: int) -> str:
    """Fire a timer: 'fired', 'early' (not due by the engine clock) or 'done' (fired or cancelled before).

    Whether it is due is decided once, inside the transaction that fires it."""
    with services.quick_read() as conn:
        timer = timers.get_row(conn, timer_id)
    if timer is None or timer.fired_at or timer.cancelled_at:
        return "done"
    instance_id, task_id = timer.instance_id, timer.task_id

    def act(work: Work) -> str:
        row = timers.get_row(work.conn, timer_id)
        if row is None or row.fired_at or row.cancelled_at:
            raise _NotFired("done")
        if row.due_at > work.now:
            raise _NotFired("early")
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
        run_step(work, lambda: timers.fire(work.workflow, task))
        return "fired"

    try:
        outcome, _ = change(services, instance_id, SYSTEM_USER, act)
    except _NotFired as skipped:
        return skipped.outcome
    except InstanceNotRunning:
        with services.write_connection() as conn:
            row = timers.get_row(conn, timer_id)
            if row is not None and not row.fired_at and not row.cancelled_at:
                timers.close(conn, timer_id, cancelled_at=services.clock.now())
        return "done"
    return outcome


def send_message(services: Services, name: str, correlation: dict[str, Any], payload: dict[str, Any],
                 actor: UserView) -> InstanceView:
    """Deliver a BPMN message to the one running instance waiting for it with matching correlation values."""
    if not isinstance(correlation, dict) or not isinstance(payload, dict):
        raise InvalidInput("correlation and payload must be JSON objects")
    candidates = _waiting_for_message(services, name, correlation)
    if not candidates:
        raise MessageNotCorrelated(f"no running instance waits for message {name!r} with {correlation}")

    def act(work: Work) -> None:
        event = BpmnEvent(MessageEventDefinition(name), payload, correlations=dict(correlation))
        work.record("message_received", message=name, correlation=correlation, fields=sorted(payload))
        run_step(work, lambda: work.workflow.catch(event))

    _, result = change(services, candidates[0], actor, act)
    return result


def _waiting_for_message(services: Services, name: str, correlation: dict[str, Any]) -> list[int]:
    with services.read_session() as session:
        query = select(ProcessInstance.id).where(ProcessInstance.status == "running")
        if "reference" in correlation:
            query = query.where(ProcessInstance.reference == str(correlation["reference"]))
        ids = list(session.scalars(query.order_by(ProcessInstance.id)))
    matches = []
    for instance_id in ids:
        with services.read_session() as session:
            row = session.get(ProcessInstance, instance_id)
            workflow, _model = restore(services, session, row)
            lock_version = row.lock_version
        waiting = [e for e in workflow.waiting_events() if e.event_type == "MessageEventDefinition"
                   and e.name == name]
        services.live.put(instance_id, lock_version, workflow)
        if waiting and _correlates(workflow, correlation):
            matches.append(instance_id)
    return matches


def _correlates(workflow: BpmnWorkflow, correlation: dict[str, Any]) -> bool:
    data = {**workflow.data, **last_data(workflow)}
    return all(str(data.get(k)) == str(v) for k, v in correlation.items())


