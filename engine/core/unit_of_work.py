"""The unit of work: load an instance, act, save state and derived rows in one transaction under an optimistic lock."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from sqlalchemy import Connection, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.core import audit, business_time, compaction, definitions, facts, tasks, timers
from engine.core import outbox as notifications
from engine.core.db.database import connection_of
from engine.core.db.models import ProcessInstance
from engine.core.db.prepared import all_together
from engine.core.hooks import hooks_of
from engine.core.rows import (
    INSERT_ROW,
    INSERT_ROW_WITH_ID,
    NEXT_ID,
    SELECT_STATE,
    UPDATE_ROW,
    UPDATE_ROW_CHECKED,
    UPDATE_STATE,
    UPDATE_STATE_CHECKED,
    InstanceRow,
    first_read,
    row_of,
    tasks_and_row,
)
from engine.core.steps import check_sizes, mark_error, run_step, status_of
from engine.core.users import SYSTEM_USER, UserView, get_user, user_from_rows, user_read
from engine.core.work import (
    Actor,
    SaveResult,
    Work,
    error_text,
    label_of,
    last_data,
    snapshot,
    view,
)
from engine.errors import (
    ConcurrentUpdate,
    InstanceNotFound,
    InstanceNotRunning,
    InvalidInput,
    ScriptError,
    TaskAlreadyCompleted,
    TaskNotFound,
)
from engine.results import InstanceView

if TYPE_CHECKING:
    from engine.core.services import Services

# The unit of work's public names, including those of its parts (work.py, steps.py) its callers use.
__all__ = ["Actor", "SaveResult", "Work", "actor_of", "change", "check_sizes", "label_of", "last_data",
           "raise_missing_task", "restore", "run_step", "save", "snapshot", "start_reads", "view"]


# -- running ------------------------------------------------------------------------------------------------


def save(services: Services, work: Work) -> SaveResult:
    """Write state and derived rows; the optimistic-lock UPDATE goes first, so a stale version changes nothing."""
    row, workflow, now, conn = work.row, work.workflow, work.now, work.conn
    hooks = hooks_of(services)
    if work.snapshot is not None and not work.revert:
        try:  # timers that name a calendar count business hours (engine/core/business_time.py)
            business_time.anchor(workflow, work.snapshot.waiting_timers, now, hooks.business_due)
        except WorkflowException as err:
            mark_error(work, err)
    state, taken_out = None, set()
    if not work.revert:
        taken_out = compaction.compact_if_large(workflow, work.named_tasks)
        try:
            state = _state_of(services, work)
        except ScriptError as err:
            if row.id is None:
                raise InvalidInput(f"the instance cannot start: {err}") from err
            mark_error(work, err)
            work.revert = True
    if work.revert:
        return _save_error_only(services, work)
    snap = work.snapshot or snapshot(workflow)
    previous = row.status
    if work.failed is not None:
        row.status = "error"
    elif work.ran or row.status != "error":
        row.status = status_of(workflow, snap)
    if row.status != "error":
        row.error_message = row.error_element_id = row.error_line = None
    row.updated_at = now
    row.label = label_of(workflow.data) or label_of(last_data(workflow)) or row.label
    if row.status in ("completed", "cancelled") and row.ended_at is None:
        row.ended_at = now
    known_tasks = {} if row.id is None else work.open_tasks  # a new instance has no task rows yet
    _write_state(services, work, state)
    tasks.sync_rows(conn, row, snap.ready_human, now, known_tasks)
    new_timers = timers.sync_rows(conn, row.id, workflow, snap.waiting_timers, now, work.had_timers, taken_out)
    outgoing = notifications.write_rows(conn, row.id, work.outbox.items, now) if row.status != "error" else []
    if row.status != previous and row.status in ("completed", "cancelled"):
        work.record(f"instance_{row.status}")
    facts.record(conn, work, snap.ready_human)
    for write_rows in hooks.row_writers:  # features' derived rows (SLA clocks), in this same transaction
        write_rows(conn, work)
    audit.insert(conn, work.events)
    return SaveResult(row.id, row.status, row.definition_id, new_timers, outgoing)


def _state_of(services: Services, work: Work) -> str:
    """The workflow's state as JSON; one that cannot be stored or is over the size limit is a `ScriptError`."""
    try:
        state = services.serializer.dumps(work.workflow)
    except Exception as err:  # noqa: BLE001 - a value the serializer cannot hold, named in the message
        raise ScriptError(f"the instance data cannot be saved: {err.__class__.__name__}: {err}",
                          element_id=_last_element(work.workflow)) from err
    if len(state) > services.max_state_bytes:
        raise ScriptError(f"the instance state is {len(state) / 1_048_576:.1f} MB, over the "
                          f"{services.max_state_bytes / 1_048_576:g} MB limit", element_id=_last_element(work.workflow))
    return state


def _last_element(workflow: BpmnWorkflow) -> str | None:
    last = workflow.last_task
    return last.task_spec.bpmn_id if last is not None else None


def _save_error_only(services: Services, work: Work) -> SaveResult:
    """Record the failure and keep the stored (last good) state and derived rows as they are."""
    row = work.row
    row.updated_at = work.now
    state = SELECT_STATE.scalar(work.conn, {"instance_id": row.id})
    work.listed = ()  # the status changed: write the indexed columns
    _write_state(services, work, state)
    audit.insert(work.conn, work.events)
    return SaveResult(row.id, row.status, row.definition_id)


def _write_state(services: Services, work: Work, state: str) -> None:
    """Insert a new instance's row with its first state, or update the state under the optimistic lock."""
    row, conn = work.row, work.conn
    if row.id is None:
        row.lock_version += 1
        row.serializer_version = services.serializer.version
        if work.new_id is not None:
            row.id = work.new_id
            INSERT_ROW_WITH_ID.execute(conn, {**vars(row), "state": state})  # (asdict would deep-copy every value)
        else:
            row.id = INSERT_ROW.scalar(conn, {**vars(row), "state": state})
        for event in work.events:  # recorded before the row had an id
            event["instance_id"] = row.id
        return
    params = {"b_id": row.id, "b_lock": row.lock_version, "b_state": state,
              "b_serializer": services.serializer.version, "b_new_lock": row.lock_version + 1, "b_updated": work.now}
    if row.listed() != work.listed:
        params.update({"b_status": row.status, "b_label": row.label, "b_ended": row.ended_at,
                       "b_error": row.error_message, "b_error_element": row.error_element_id,
                       "b_error_line": row.error_line})
    if conn.dialect.name == "postgresql":  # pipelined: the statement itself fails on a stale version
        (UPDATE_STATE_CHECKED if row.listed() == work.listed else UPDATE_ROW_CHECKED).execute(conn, params)
    elif (UPDATE_STATE if row.listed() == work.listed else UPDATE_ROW).execute(conn, params) != 1:
        raise StaleDataError(f"instance {row.id} is no longer at version {row.lock_version}")
    row.lock_version += 1


def restore(services: Services, db: Session | Connection, row: ProcessInstance | InstanceRow):
    """The instance's workflow: from the live cache when its version matches, else deserialized."""
    model = definitions.model_for(services, db, row.definition_id)
    workflow = services.live.take(row.id, row.lock_version)
    if workflow is None:
        state = getattr(row, "state", None)
        if state is None:
            state = SELECT_STATE.scalar(connection_of(db), {"instance_id": row.id})
        workflow = services.serializer.loads(state, model.spec, model.subprocess_specs)
        workflow.script_engine = services.script_engine
    return workflow, model


def actor_of(conn: Connection, actor: Actor) -> UserView:
    if isinstance(actor, UserView):
        return actor
    return SYSTEM_USER if actor is None else get_user(conn, actor)


def change(services: Services, instance_id: int | None, actor: Actor, action: Callable[[Work], Any], *,
           task_id: str | None = None, expected_version: int | None = None,
           allow_error: bool = False, allow_ended: bool = False) -> tuple[Any, InstanceView]:
    """Load, act, save in one transaction; a concurrent change raises `ConcurrentUpdate` and saves nothing.

    `allow_ended` lets an action rewrite a completed or cancelled instance (erasure of personal data).

    With `task_id` the instance is the one holding that open task (its open task rows are loaded once and
    handed to the action as `work.open_tasks`)."""
    workflow = None
    try:
        with services.step_connection() as conn:
            open_tasks = None
            found, user = _first_reads(conn, task_id, instance_id, actor)
            if task_id is not None:
                open_tasks, row = tasks_and_row(found)
                if task_id not in open_tasks:
                    raise_missing_task(conn, task_id)
                instance_id = row.id
            else:
                row = row_of(found)
            user = user()
            if row is None:
                raise InstanceNotFound(f"no instance with id {instance_id}")
            if expected_version is not None and row.lock_version != expected_version:
                raise ConcurrentUpdate(f"instance {instance_id} changed since version {expected_version} "
                                       f"(now {row.lock_version}); reload and try again")
            if (row.status in ("completed", "cancelled") and not allow_ended) or \
                    (row.status == "error" and not allow_error):
                raise InstanceNotRunning(f"instance {instance_id} is {row.status}"
                                         + (f": {error_text(row)}" if row.status == "error" else ""))
            workflow, model = restore(services, conn, row)
            with services.step_transaction(conn):  # reads above, writes (and the action's own reads) here
                work = Work(conn, row, workflow, model, user, services.clock.now(),
                            had_timers=model.has_timers, open_tasks=open_tasks)
                outcome = action(work)
                workflow = work.workflow  # an action may replace it (erasure restores a rewritten state)
                saved = save(services, work)
            result = view(row)
            if work.revert:
                workflow = None  # changed by the failed action: never cached under the new version
    except (StaleDataError, OperationalError) as err:
        if isinstance(err, OperationalError) and "locked" not in str(err).lower() \
                and "could not serialize" not in str(err).lower():
            raise
        raise ConcurrentUpdate(f"instance {instance_id} was changed by someone else; nothing was saved, "
                               "reload and try again") from err
    # On any other error the workflow object may be half-changed: it is simply not put back in the cache.
    if workflow is not None:
        services.live.put(result.id, result.lock_version, workflow)
    services.notify_saved([saved])
    return outcome, result


def _first_reads(conn: Connection, task_id: str | None, instance_id: int | None, actor: Actor):
    """The rows of `first_read` and a callable giving the acting user (it raises `UserNotFound`), read together:
    one round trip on PostgreSQL."""
    reads = [first_read(task_id, instance_id)]
    by_name = isinstance(actor, str) and actor != SYSTEM_USER.username
    if by_name:
        reads.append(user_read(actor))
    found = all_together(conn, reads)
    if by_name:
        return found[0], lambda: user_from_rows(actor, found[1])
    return found[0], lambda: actor_of(conn, actor)


def start_reads(conn: Connection, actor: Actor, key: str) -> tuple[UserView, Any, int | None]:
    """What a start reads before its transaction, together (one round trip on PostgreSQL): the acting user, the
    newest version of `key`, and on PostgreSQL the new instance's id (a sequence is outside transactions)."""
    reads = [definitions.latest_read(key)]
    by_name = isinstance(actor, str) and actor != SYSTEM_USER.username
    if by_name:
        reads.append(user_read(actor))
    pipelined = conn.dialect.name == "postgresql"
    if pipelined:
        reads.append((NEXT_ID, {}))
    found = all_together(conn, reads)
    user = user_from_rows(actor, found[1]) if by_name else actor_of(conn, actor)
    return user, definitions.latest_from_rows(key, found[0]), found[-1][0][0] if pipelined else None


def raise_missing_task(conn, task_id: str) -> None:
    done = conn.execute(select(audit.Event.id).where(audit.Event.task_id == task_id,
                                                     audit.Event.kind == "task_completed").limit(1)).first()
    if done:
        raise TaskAlreadyCompleted(f"task {task_id} was already completed")
    raise TaskNotFound(f"no open task with id {task_id}")


