"""External tasks: service tasks waiting for a worker, fetched and locked by topic, completed or failed by it.

Rows are derived state: `write_rows` (a kernel row writer) rewrites an instance's `external_task` rows in each
save's transaction, keeping lock, retries and last failure of tasks still waiting. Locking changes only the row
(a conditional UPDATE, so two workers never lock the same task); completing, a BPMN error and a failure without
retries left change the instance through the kernel's unit of work, under its optimistic lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import and_, delete, insert, or_, select, update

from engine.camunda import continuations
from engine.camunda.bpmn_errors import throw
from engine.camunda.models import ExternalTask
from engine.camunda.service_task import CamundaServiceTask
from engine.core.db.models import ProcessInstance
from engine.core.unit_of_work import Work, change, restore, run_step
from engine.core.users import SYSTEM_USER
from engine.errors import InvalidInput, TaskNotFound, TaskNotReady

if TYPE_CHECKING:
    from engine.core.services import Services

ROWS = ExternalTask.__table__
MAX_LOCK_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True)
class LockedTask:
    """An external task handed to a worker (the fields Camunda's REST API returns)."""

    id: str
    topic: str
    worker_id: str
    lock_expires_at: datetime
    instance_id: int
    business_key: str | None
    element_id: str
    process_key: str
    definition_id: int
    retries: int | None
    error_message: str | None
    error_details: str | None
    priority: int
    variables: dict[str, Any] = field(default_factory=dict)


def _waiting(workflow) -> dict[str, tuple[Any, str]]:
    """The waiting tasks by id, with their topic: a service task's own, or the reserved one of an async
    continuation waiting for its job."""
    found = {}
    for tasks_of in (workflow.tasks, *(sub.tasks for sub in workflow.subprocesses.values())):
        for task in tasks_of.values():
            if continuations.is_waiting(task):
                found[str(task.id)] = (task, continuations.ASYNC_TOPIC)
            elif task.state == TaskState.STARTED and isinstance(task.task_spec, CamundaServiceTask):
                found[str(task.id)] = (task, task.task_spec.topic)
    return found


def _may_wait(model) -> bool:
    """Whether any task of the model is a Camunda service task or async (remembered on the cached model)."""
    known = model.__dict__.get("_clientflow_external_tasks")
    if known is None:
        known = model.__dict__["_clientflow_external_tasks"] = any(
            isinstance(task_spec, CamundaServiceTask | continuations.AsyncContinuation)
            for group in (model.spec, *model.subprocess_specs.values()) if group is not None
            for task_spec in group.task_specs.values())
    return known


def write_rows(conn, work: Work) -> None:
    """Match the instance's `external_task` rows to its waiting service tasks (a kernel row writer)."""
    row = work.row
    # Most models have no external task: no query on their saves (unless the instance just moved from a version
    # that may have had some).
    if not _may_wait(work.model) and not any(e["kind"] == "instance_migrated" for e in work.events):
        return
    existing = dict(conn.execute(select(ROWS.c.id, ROWS.c.topic).where(ROWS.c.instance_id == row.id)).all())
    waiting = {} if row.status != "running" else _waiting(work.workflow)
    gone = set(existing) - set(waiting)
    if gone:
        conn.execute(delete(ROWS).where(ROWS.c.id.in_(sorted(gone))))
    for task_id, (_task, topic) in waiting.items():
        if task_id in existing and existing[task_id] != topic:  # continued before it: now waits for a worker
            conn.execute(update(ROWS).where(ROWS.c.id == task_id).values(
                topic=topic, worker_id=None, lock_expires_at=None, retries=None, error_message=None,
                error_details=None, created_at=work.now))
    added = [{"id": task_id, "instance_id": row.id, "process_key": row.process_key, "definition_id": row.definition_id,
              "element_id": task.task_spec.bpmn_id, "topic": topic, "priority": 0, "worker_id": None,
              "lock_expires_at": None, "retries": None, "error_message": None, "error_details": None,
              "created_at": work.now} for task_id, (task, topic) in waiting.items() if task_id not in existing]
    if added:
        conn.execute(insert(ROWS), added)


def _row(conn, task_id: str):
    row = conn.execute(select(ROWS).where(ROWS.c.id == task_id)).one_or_none()
    if row is None:
        raise TaskNotFound(f"no external task with id {task_id}")
    return row


def _held_by(row, worker_id: str, now: datetime) -> None:
    if row.worker_id != worker_id or row.lock_expires_at is None or row.lock_expires_at < now:
        holder = f"locked by {row.worker_id!r}" if row.worker_id else "not locked"
        raise TaskNotReady(f"external task {row.id} is {holder}, not by worker {worker_id!r}")


def _lock_until(now: datetime, lock_ms: Any) -> datetime:
    if not isinstance(lock_ms, int) or isinstance(lock_ms, bool) or not 0 < lock_ms <= MAX_LOCK_MS:
        raise InvalidInput(f"lockDuration must be a whole number of milliseconds from 1 to {MAX_LOCK_MS}")
    return now + timedelta(milliseconds=lock_ms)


def fetch_and_lock(services: Services, worker_id: str, max_tasks: int, topics: list[dict[str, Any]],
                   ) -> list[LockedTask]:
    """Lock up to `max_tasks` unlocked tasks of the given topics for `worker_id`; oldest first."""
    now = services.clock.now()
    by_topic = {t["topicName"]: t for t in topics}
    if continuations.ASYNC_TOPIC in by_topic:
        raise InvalidInput(f"topic {continuations.ASYNC_TOPIC!r} is reserved for the engine's own jobs")
    locked: list[tuple[Any, datetime, dict]] = []
    with services.write_connection() as conn:
        candidates = conn.execute(
            select(ROWS, ProcessInstance.reference).join(ProcessInstance, ProcessInstance.id == ROWS.c.instance_id)
            .where(or_(*(_topic_filter(topic) for topic in topics)), ProcessInstance.status == "running",
                   or_(ROWS.c.lock_expires_at.is_(None), ROWS.c.lock_expires_at < now))
            .order_by(ROWS.c.priority.desc(), ROWS.c.created_at, ROWS.c.id).limit(max_tasks * 4)).all()
        for candidate in candidates:
            if len(locked) >= max_tasks:
                break
            topic = by_topic[candidate.topic]
            until = _lock_until(now, topic.get("lockDuration"))
            taken = conn.execute(update(ROWS).where(ROWS.c.id == candidate.id, or_(
                ROWS.c.lock_expires_at.is_(None), ROWS.c.lock_expires_at < now)).values(
                worker_id=worker_id, lock_expires_at=until)).rowcount
            if taken == 1:
                locked.append((candidate, until, topic))
    return [_locked_view(services, candidate, worker_id, until, topic) for candidate, until, topic in locked]


def _topic_filter(topic: dict[str, Any]):
    """The rows of one fetched topic, narrowed to `processDefinitionKey` / `processDefinitionKeyIn` if given."""
    keys = topic.get("processDefinitionKeyIn") or []
    if topic.get("processDefinitionKey"):
        keys = [*keys, topic["processDefinitionKey"]]
    if not keys:
        return ROWS.c.topic == topic["topicName"]
    return and_(ROWS.c.topic == topic["topicName"], ROWS.c.process_key.in_(sorted(keys)))


def lock(services: Services, task_id: str, worker_id: str, lock_ms: Any) -> None:
    """Lock one task by id for `worker_id` (Camunda's `/external-task/{id}/lock`); refused while another holds it."""
    now = services.clock.now()
    until = _lock_until(now, lock_ms)
    with services.write_connection() as conn:
        row = _row(conn, task_id)
        if row.topic == continuations.ASYNC_TOPIC:
            raise TaskNotReady(f"task {task_id} is an asynchronous continuation: the engine's worker runs it")
        taken = conn.execute(update(ROWS).where(ROWS.c.id == task_id, or_(
            ROWS.c.worker_id == worker_id, ROWS.c.lock_expires_at.is_(None), ROWS.c.lock_expires_at < now)).values(
            worker_id=worker_id, lock_expires_at=until)).rowcount
        if taken != 1:
            raise TaskNotReady(f"external task {task_id} is locked by {row.worker_id!r}")


def _locked_view(services: Services, row, worker_id: str, until: datetime, topic: dict) -> LockedTask:
    with services.read_session() as session:
        instance = session.get(ProcessInstance, row.instance_id)
        workflow, _model = restore(services, session, instance)
        services.live.put(instance.id, instance.lock_version, workflow)
    task = workflow.get_task_from_id(UUID(row.id))
    names = topic.get("variables")
    data = dict(task.data) if task is not None else {}
    variables = data if names is None else {n: data[n] for n in names if n in data}
    return LockedTask(row.id, row.topic, worker_id, until, row.instance_id, row.reference, row.element_id,
                      row.process_key, row.definition_id, row.retries, row.error_message, row.error_details,
                      row.priority, variables)


def _started_task(work: Work, task_id: str):
    task = work.workflow.get_task_from_id(UUID(task_id))
    if task is None or task.state != TaskState.STARTED:
        raise TaskNotReady(f"external task {task_id} is no longer waiting")
    return task


def complete(services: Services, task_id: str, worker_id: str, variables: dict[str, Any]) -> None:
    """The worker finished: set its variables and let the instance run on."""
    with services.read_session() as session:
        row = _row(session.connection(), task_id)
        _held_by(row, worker_id, services.clock.now())

    def act(work: Work) -> None:
        task = _started_task(work, task_id)
        work.record("external_task_completed", element_id=row.element_id, task_id=task_id, worker=worker_id,
                    fields=sorted(variables))

        def step() -> None:
            task.data.update(variables)
            task.complete()
        run_step(work, step)

    change(services, row.instance_id, SYSTEM_USER, act)


def extend_lock(services: Services, task_id: str, worker_id: str, new_duration_ms: Any) -> None:
    now = services.clock.now()
    with services.write_connection() as conn:
        row = _row(conn, task_id)
        _held_by(row, worker_id, now)
        conn.execute(update(ROWS).where(ROWS.c.id == task_id).values(lock_expires_at=_lock_until(now, new_duration_ms)))


def unlock(services: Services, task_id: str) -> None:
    with services.write_connection() as conn:
        _row(conn, task_id)
        conn.execute(update(ROWS).where(ROWS.c.id == task_id).values(worker_id=None, lock_expires_at=None))


def failure(services: Services, task_id: str, worker_id: str, message: str, details: str | None,
            retries: Any, retry_timeout_ms: Any) -> None:
    """A worker failed: with retries left the task is offered again after the timeout; with none, an incident."""
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise InvalidInput("retries must be a whole number, 0 or more")
    timeout = retry_timeout_ms or 0
    if not isinstance(timeout, int) or isinstance(timeout, bool) or not 0 <= timeout <= MAX_LOCK_MS:
        raise InvalidInput(f"retryTimeout must be a whole number of milliseconds from 0 to {MAX_LOCK_MS}")
    now = services.clock.now()
    message = (message or "the worker reported a failure")[:1000]
    with services.write_connection() as conn:
        row = _row(conn, task_id)
        _held_by(row, worker_id, now)
        if retries > 0:
            conn.execute(update(ROWS).where(ROWS.c.id == task_id).values(
                worker_id=None, lock_expires_at=now + timedelta(milliseconds=timeout) if timeout else None,
                retries=retries, error_message=message, error_details=details))
            return

    def act(work: Work) -> None:
        task = _started_task(work, task_id)
        work.record("external_task_failed", element_id=row.element_id, task_id=task_id, worker=worker_id)

        def step() -> None:
            task.error()
            raise WorkflowTaskException(f"external task failed: {message}", task=task)
        run_step(work, step)

    change(services, row.instance_id, SYSTEM_USER, act)


def bpmn_error(services: Services, task_id: str, worker_id: str, code: str, message: str | None,
               variables: dict[str, Any]) -> None:
    """Throw BPMN error `code` from the task: a boundary event catches it, else the instance has an incident."""
    if not isinstance(code, str) or not code:
        raise InvalidInput("errorCode is required")
    with services.read_session() as session:
        row = _row(session.connection(), task_id)
        _held_by(row, worker_id, services.clock.now())

    def act(work: Work) -> None:
        task = _started_task(work, task_id)
        work.record("bpmn_error", element_id=row.element_id, task_id=task_id, code=code, message=message)

        def step() -> None:
            throw(task, code, message, variables)
        run_step(work, step)

    change(services, row.instance_id, SYSTEM_USER, act)


def open_tasks(services: Services, topic: str | None = None) -> list[dict[str, Any]]:
    """The waiting external tasks (for operations and the REST list)."""
    query = select(ROWS).order_by(ROWS.c.created_at, ROWS.c.id)
    if topic:
        query = query.where(ROWS.c.topic == topic)
    with services.read_session() as session:
        return [dict(r._mapping) for r in session.execute(query)]


def has_waiting(services: Services, topics: list[str]) -> bool:
    now = services.clock.now()
    with services.read_session() as session:
        return session.execute(select(ROWS.c.id).where(ROWS.c.topic.in_(topics), and_(or_(
            ROWS.c.lock_expires_at.is_(None), ROWS.c.lock_expires_at < now))).limit(1)).first() is not None
