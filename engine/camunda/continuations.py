"""Asynchronous continuations (`camunda:asyncBefore` / `camunda:asyncAfter`): a step committed, then continued
by a job on the worker, with Camunda's retries.

An activity marked async stops in SpiffWorkflow's STARTED state (before running its own work, or after it, before
leaving) with its phase in the task's internal data. It then waits as an `external_task` row on the reserved topic
`ASYNC_TOPIC`, which no HTTP worker may fetch; the RQ worker's sweeper gives each due row a job
(webapp/worker/jobs.py `continue_async`), and the job calls `continue_async` here. A failing attempt is rolled back
and tried again after the model's `camunda:failedJobRetryTimeCycle` (default: 3 attempts, at once); the last one
saves the failure as an incident (status `error`, naming the element), retried from the operations view.

Camunda's async applies to any activity type, so it is one mixin put in front of the parsed spec's own class
(`make_async`), not a subclass per spec type: the rest of the spec (and its serializer entry) stays as parsed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import or_, select, update

from engine.camunda.models import ExternalTask
from engine.core.db.models import ProcessInstance
from engine.core.unit_of_work import Work, change, run_step
from engine.core.users import SYSTEM_USER
from engine.errors import InvalidModel

if TYPE_CHECKING:
    from engine.core.services import Services

ASYNC_TOPIC = "clientflow:async-continuation"
PHASE = "camunda_async_phase"  # "before" or "after" while the task waits for its job
BEFORE_DONE = "camunda_async_before_done"
DEFAULT_ATTEMPTS = 3
ROWS = ExternalTask.__table__
_REPEAT = re.compile(r"^R(\d+)/(P[^/]+)$")


def retry_cycle(text: str | None, element_id: str | None = None) -> tuple[timedelta, ...]:
    """The waits between attempts of `camunda:failedJobRetryTimeCycle`: `R5/PT1M` (5 attempts, a minute apart)
    or `PT1M,PT5M,PT10M` (4 attempts); none given: 3 attempts at once."""
    if not text or not text.strip():
        return (timedelta(0),) * (DEFAULT_ATTEMPTS - 1)
    text = text.strip()
    try:
        repeat = _REPEAT.match(text)
        if repeat:
            count = int(repeat.group(1))
            if not 1 <= count <= 100:
                raise ValueError("the repeat count must be from 1 to 100")
            return (_duration(repeat.group(2)),) * (count - 1)
        return tuple(_duration(part.strip()) for part in text.split(","))
    except ValueError as err:
        raise InvalidModel(f"camunda:failedJobRetryTimeCycle {text!r} must be R<n>/<ISO duration> or a list of "
                           f"ISO durations ({err})", element_id=element_id) from None


def _duration(text: str) -> timedelta:
    if not text.upper().startswith("P"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration")
    parsed = TimerEventDefinition.parse_iso_duration(text)
    return TimerEventDefinition.get_timedelta_from_start(parsed, datetime(2000, 1, 1, tzinfo=UTC))


class AsyncContinuation:
    """Stops the task before its work (`async_before`) and/or after it (`async_after`) until a job continues it."""

    async_before: bool = False
    async_after: bool = False
    retry_waits: tuple[timedelta, ...] = ()

    @property
    def attempts(self) -> int:
        return len(self.retry_waits) + 1

    def _run_hook(self, my_task):
        if self.async_before and not my_task.internal_data.get(BEFORE_DONE):
            my_task.internal_data[PHASE] = "before"
            return None
        result = super()._run_hook(my_task)
        if result and self.async_after:
            my_task.internal_data[PHASE] = "after"
            return None
        return result


_CLASSES: dict[type, type] = {}


def make_async(spec: Any, before: bool, after: bool, waits: tuple[timedelta, ...]) -> None:
    """Put `AsyncContinuation` in front of the spec's class (one made class per spec class) and set its options."""
    cls = spec.__class__
    if not issubclass(cls, AsyncContinuation):
        made = _CLASSES.get(cls)
        if made is None:
            made = _CLASSES[cls] = type(f"Async{cls.__name__}", (AsyncContinuation, cls), {})
        spec.__class__ = made
    spec.async_before, spec.async_after, spec.retry_waits = before, after, waits


def is_waiting(task) -> bool:
    """Whether the task waits for its asynchronous continuation."""
    return task.state == TaskState.STARTED and task.internal_data.get(PHASE) is not None


def due(services: Services, limit: int = 1000) -> list[str]:
    """Ids of the continuations due now (not waiting out a retry), of running instances; oldest first."""
    now = services.clock.now()
    with services.read_session() as session:
        return list(session.execute(
            select(ROWS.c.id).join(ProcessInstance, ProcessInstance.id == ROWS.c.instance_id)
            .where(ROWS.c.topic == ASYNC_TOPIC, ProcessInstance.status == "running",
                   or_(ROWS.c.lock_expires_at.is_(None), ROWS.c.lock_expires_at <= now))
            .order_by(ROWS.c.created_at, ROWS.c.id).limit(limit)).scalars())


class _Retry(Exception):
    """Ends a failed attempt's unit of work without saving it; more attempts are left."""

    def __init__(self, message: str, wait: timedelta, left: int):
        super().__init__(message)
        self.message, self.wait, self.left = message, wait, left


class _Gone(Exception):
    """Ends the unit of work without saving: the continuation already ran (a second job for it)."""


def continue_async(services: Services, task_id: str) -> str:
    """Run one waiting continuation: 'continued', 'retrying' (rolled back; tried again later), 'incident' (the
    last attempt failed: the instance is in error), or 'done' (nothing to do: ran before, or not due)."""
    with services.read_session() as session:
        row = session.execute(select(ROWS).where(ROWS.c.id == task_id)).one_or_none()
    now = services.clock.now()
    if row is None or row.topic != ASYNC_TOPIC or (row.lock_expires_at is not None and row.lock_expires_at > now):
        return "done"

    def act(work: Work) -> None:
        task = work.workflow.get_task_from_id(UUID(task_id))
        if task is None or not is_waiting(task):
            raise _Gone
        spec = task.task_spec
        phase = task.internal_data.pop(PHASE)
        attempt = spec.attempts - (row.retries if row.retries is not None else spec.attempts) + 1
        work.record("async_continued", element_id=row.element_id, task_id=task_id, phase=phase, attempt=attempt)

        def step() -> None:
            if phase == "before":
                task.internal_data[BEFORE_DONE] = True
                task.run()
            else:
                task.complete()
        run_step(work, step)
        if work.failed is not None and attempt < spec.attempts:
            raise _Retry(work.failed.message, spec.retry_waits[attempt - 1], spec.attempts - attempt)

    try:
        _, view = change(services, row.instance_id, SYSTEM_USER, act)
    except _Gone:
        return "done"
    except _Retry as retry:
        with services.write_connection() as conn:
            conn.execute(update(ROWS).where(ROWS.c.id == task_id).values(
                retries=retry.left, error_message=retry.message[:1000],
                lock_expires_at=services.clock.now() + retry.wait if retry.wait else None))
        return "retrying"
    return "incident" if view.status == "error" else "continued"
