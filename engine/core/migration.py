"""Moving a running instance to a newer version of its process when SpiffWorkflow's diff says it is safe.

The stored state holds no spec, so a migration restores the workflow with the old version's specs, lets
SpiffWorkflow re-align its tasks to the new specs (`SpecDiff` / `migrate_workflow`), and saves it under the new
definition in one unit of work (`unit_of_work.change`): optimistic lock, derived rows rewritten, audit event.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import DurationTimerEventDefinition
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update

from engine.core import definitions, rows, timers, unit_of_work
from engine.core.db.models import ProcessDefinition, ProcessInstance
from engine.core.tasks import HUMAN, properties
from engine.errors import InstanceNotFound, MigrationRefused, ProcessNotFound
from engine.results import InstanceView

if TYPE_CHECKING:
    from engine.core.services import Services

DEFINITION = ProcessDefinition.__table__
ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
# Spec attributes an active task may change: they only matter from now on (labels, lane, form, outgoing flows,
# a timer's or message's expression). Anything else (type, interrupting or not, called process, loop
# settings...) changes what the task already is, and is refused.
COMPATIBLE = frozenset({
    "bpmn_name", "description", "documentation", "extensions", "lane", "lookahead", "outputs", "prescript",
    "postscript", "io_specification", "data_input_associations", "data_output_associations", "event_definition",
})
# A waiting join counts the flows that reach it: its inputs must stay as they are.
COMPATIBLE_JOIN = COMPATIBLE - {"inputs"}


@dataclass(frozen=True)
class MigrationPlan:
    """Whether an instance can move to `to_version` (no `reasons`), and what moving would change."""

    instance_id: int
    key: str
    from_version: int
    to_version: int
    reasons: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    @property
    def safe(self) -> bool:
        return not self.reasons

    def as_dict(self) -> dict:
        return {**asdict(self), "safe": self.safe}


@lru_cache(maxsize=1)
def _registry():
    """SpiffWorkflow's spec converters: `SpecDiff` compares specs through their serialized form."""
    return BpmnWorkflowSerializer.configure(SPIFF_CONFIG)


def _label(task) -> str:
    spec = task.task_spec
    name = spec.bpmn_name or spec.bpmn_id or spec.name
    return f"{name!r} ({spec.bpmn_id})" if spec.bpmn_id and spec.bpmn_id != name else repr(name)


def _diffs(workflow, new_spec, new_dependencies) -> tuple[list, list[str]]:
    """(workflow or subworkflow, its spec diff, its task diff, the new spec) for the top level and every
    running subprocess, plus the reasons to refuse found on the way."""
    pairs, reasons = [], []
    for owner, new in [(workflow, new_spec), *((sp, new_dependencies.get(sp.spec.name))
                                                for sp in workflow.subprocesses.values())]:
        if new is None:
            reasons.append(f"the running subprocess {owner.spec.name!r} does not exist in the new version")
            continue
        spec_diff = SpecDiff(_registry(), owner.spec, new)
        pairs.append((owner, spec_diff, WorkflowDiff(owner, spec_diff), new))
    return pairs, reasons


def _active_task_reasons(spec_diff: SpecDiff, task_diff: WorkflowDiff) -> list[str]:
    reasons = []
    for task in task_diff.removed:
        if task.state & ACTIVE:
            reasons.append(f"the current step {_label(task)} is removed in the new version")
    for task in task_diff.changed:
        if not task.state & ACTIVE or task in task_diff.removed:
            continue
        changed = set(spec_diff.changed.get(task.task_spec, ()))
        allowed = COMPATIBLE_JOIN if "Gateway" in type(task.task_spec).__name__ else COMPATIBLE
        if "event_definition" in changed and not _same_event_kind(task.task_spec, spec_diff):
            changed.add("event type")
        bad = sorted(changed - allowed)
        if bad:
            reasons.append(f"the current step {_label(task)} changed incompatibly ({', '.join(bad)})")
    return reasons


def _same_event_kind(spec, spec_diff: SpecDiff) -> bool:
    new = spec_diff.alignment.get(spec)
    old_definition = getattr(spec, "event_definition", None)
    return type(old_definition) is type(getattr(new, "event_definition", None))


def move(workflow, new_model, timer_starts: dict[str, datetime], now: datetime) -> list[str]:
    """Re-align `workflow` (in place) onto `new_model`'s specs; the changes it made, or `MigrationRefused`.

    `timer_starts`: when each waiting timer (by task id) started, so a changed duration counts from then."""
    pairs, reasons = _diffs(workflow, new_model.spec, new_model.subprocess_specs)
    for _owner, spec_diff, task_diff, _new in pairs:
        reasons += _active_task_reasons(spec_diff, task_diff)
    if reasons:
        raise MigrationRefused("; ".join(reasons), reasons)
    active = {t.id: (deepcopy(t.data), deepcopy(t.internal_data), t.task_spec, timers.due_at(t))
              for t in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)}
    changed_specs = {spec for _o, spec_diff, _t, _n in pairs for spec in spec_diff.changed}
    for owner, _spec_diff, task_diff, new in pairs:
        migrate_workflow(task_diff, owner, new)
    workflow.subprocess_specs = new_model.subprocess_specs
    _check_restorable(workflow, new_model)
    changes = []
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
        if task.id not in active:
            continue
        data, internal, old_spec, old_due = active[task.id]
        task.data = data
        changed = old_spec in changed_specs
        if timers.is_timer(task):
            changes += _keep_timer(workflow, task, internal, old_due, changed,
                                   timer_starts.get(str(task.id)) or now, now)
        elif changed:
            changes.append(f"{_label(task)} now follows the new version")
    return changes


def _check_restorable(workflow, new_model) -> None:
    """Every task left in the tree must point at a spec of the new version, or the state could not be loaded."""
    specs = {new_model.spec.name: new_model.spec, **new_model.subprocess_specs}
    stale = []
    for owner in (workflow, *workflow.subprocesses.values()):
        spec = specs.get(owner.spec.name)
        for task in owner.tasks.values():
            if spec is None or spec.task_specs.get(task.task_spec.name) is not task.task_spec:
                stale.append(task)
    if stale:
        names = sorted({_label(t) for t in stale})
        reason = f"the instance has already passed {', '.join(names)}, which the new version removes"
        raise MigrationRefused(reason, [reason])


def _keep_timer(workflow, task, internal: dict, old_due: datetime | None, changed: bool,
                started: datetime, now: datetime) -> list[str]:
    """An unchanged timer keeps its due time; a changed duration counts from when the timer started."""
    if not changed:
        task.internal_data = internal
        return []
    duration = isinstance(task.task_spec.event_definition, DurationTimerEventDefinition)
    timers.anchor_due_times(workflow, [task], started if duration else now)
    due = timers.due_at(task)
    if due is None:
        return [f"timer {_label(task)} starts again"]
    was = f" (was {old_due.isoformat(timespec='minutes')})" if old_due else ""
    return [f"timer {_label(task)} is now due {due.isoformat(timespec='minutes')}{was}"]


# -- the unit of work ---------------------------------------------------------------------------------------

def _version_reasons(row, target) -> list[str]:
    if target.version == row.version:
        return [f"the instance already runs on version {row.version}"]
    if target.version < row.version:
        return [f"moving back from version {row.version} to {target.version} is not supported"]
    return []


def _target(conn, key: str, version: int):
    """Id and version of the version an instance should move to."""
    found = conn.execute(select(DEFINITION.c.id, DEFINITION.c.version).where(
        DEFINITION.c.key == key, DEFINITION.c.version == version)).one_or_none()
    if found is None:
        raise ProcessNotFound(f"process {key!r} has no version {version}")
    return found


def _timer_starts(conn, instance_id: int) -> dict[str, datetime]:
    rows = conn.execute(select(timers.TIMER.c.task_id, timers.TIMER.c.created_at).where(
        timers.TIMER.c.instance_id == instance_id, timers.TIMER.c.fired_at.is_(None),
        timers.TIMER.c.cancelled_at.is_(None)))
    return {task_id: created for task_id, created in rows}


def plan(services: Services, instance_id: int, to_version: int) -> MigrationPlan:
    """A dry run of `migrate` on a private copy of the instance: nothing is saved."""
    with services.read_session() as session:
        row = session.get(ProcessInstance, instance_id)
        if row is None:
            raise InstanceNotFound(f"no instance with id {instance_id}")
        target = _target(session.connection(), row.process_key, to_version)
        reasons = _version_reasons(row, target)
        if row.status != "running":
            reasons.append(f"the instance is {row.status}, not running")
        changes = []
        if not reasons:
            old = definitions.model_for(services, session, row.definition_id)
            new = definitions.model_for(services, session, target.id)
            workflow = services.serializer.loads(row.state, old.spec, old.subprocess_specs)
            workflow.script_engine = services.script_engine
            try:
                changes = move(workflow, new, _timer_starts(session.connection(), row.id), services.clock.now())
            except MigrationRefused as err:
                reasons = err.reasons
        return MigrationPlan(instance_id, row.process_key, row.version, to_version, reasons, changes)


def migrate(services: Services, instance_id: int, to_version: int, by: str | None) -> InstanceView:
    """Move a running instance to `to_version` of its process, or raise `MigrationRefused` saying why."""

    def act(work: unit_of_work.Work) -> None:
        target = _target(work.conn, work.row.process_key, to_version)
        reasons = _version_reasons(work.row, target)
        if reasons:
            raise MigrationRefused("; ".join(reasons), reasons)
        new = definitions.model_for(services, work.conn, target.id)
        changes = move(work.workflow, new, _timer_starts(work.conn, work.row.id), work.now)
        from_version = work.row.version
        work.conn.execute(update(rows.INSTANCE).where(rows.INSTANCE.c.id == work.row.id)
                          .values(definition_id=target.id, version=target.version))
        work.row.definition_id, work.row.version = target.id, target.version
        work.model, work.had_timers = new, work.had_timers or new.has_timers
        _rewrite_task_rows(work.conn, work.row.id, work.workflow)
        work.snapshot = unit_of_work.snapshot(work.workflow)
        timers.anchor_due_times(work.workflow, work.snapshot.waiting_timers, work.now)
        work.record("instance_migrated", from_version=from_version, to_version=target.version, changes=changes)

    _, result = unit_of_work.change(services, instance_id, by, act)
    return result


def _rewrite_task_rows(conn, instance_id: int, workflow) -> None:
    """Open task rows take the new version's name, lane and form; a claim stays only if the lane did."""
    rows = {r.id: r for r in conn.execute(select(HUMAN).where(HUMAN.c.instance_id == instance_id))}
    for task in workflow.get_tasks(state=TaskState.READY):
        row = rows.get(str(task.id))
        if row is None or not task.task_spec.manual:
            continue
        spec, props = task.task_spec, properties(task.task_spec)
        conn.execute(update(HUMAN).where(HUMAN.c.id == row.id).values(
            element_id=spec.bpmn_id, name=spec.bpmn_name or spec.bpmn_id, lane=spec.lane,
            form_key=props.get("formJsonSchemaFilename"), ui_form_key=props.get("formUiSchemaFilename"),
            claimed_by=row.claimed_by if row.lane == spec.lane else None))
