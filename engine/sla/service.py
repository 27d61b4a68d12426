"""SLA clocks in the product: started, paused, resumed, met, reopened and retargeted as a case moves.

The facade registers `write_rows` on the kernel (engine/core/hooks.py): it runs inside every save of an instance
whose process ships an SLA file, so clock rows and SLA events commit with the state or not at all.
"""

import json
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select, update

from engine.core.db.models import NO_DUE_DATE, HumanTask
from engine.core.users import SYSTEM_ACTOR
from engine.errors import InvalidInput, InvalidModel

from . import store
from .calendar import BusinessCalendar, due
from .casefile import CaseSla, client_agreement, load_case_sla
from .catalogue import describe, shipped_calendars
from .clocks import BREACHED, MET, PAUSED, RUNNING, ClockEvent, start
from .durations import parse_duration
from .errors import DurationError, SlaConfigError
from .escalation import BREACH, ESCALATION, record, refer_upward, schedule
from .policies import targets_for
from .promise import OfficeHours, office_hours

SLA_PROPERTY = "slaPolicyFilename"
# Audit kinds whose element completed (a milestone that meets or reopens a target).
_DONE_KINDS = ("task_completed", "script_ran", "rule_evaluated", "timer_fired", "message_received")
CANCELLED = "case cancelled"
TASK = HumanTask.__table__
HOLD = "sla_hold"  # process data: the status an engine action put the case on hold with ("waiting on client")


class SlaService:
    """Business calendars and per-process SLA files, and the clock bookkeeping done at each save."""

    def __init__(self, calendars: Mapping[str, BusinessCalendar] | None = None, agreements=None):
        """`agreements(conn, instance_id)` gives the targets agreed with the case's client (engine/sla/agreements.py);
        without it, or when it gives none, the case's own `sla_*` data applies."""
        self.calendars = dict(calendars or shipped_calendars())
        self.agreements = agreements
        self._files: dict[str, CaseSla] = {}

    # -- timers in business time ---------------------------------------------------------------------------
    def business_due(self, calendar: str, start_at: datetime, duration: str) -> datetime:
        """The due time of a timer counting `duration` on `calendar` (the kernel's `business_due` hook)."""
        if calendar not in self.calendars:
            raise InvalidInput(f"unknown calendar {calendar!r}; known: {', '.join(sorted(self.calendars))}")
        try:
            return due(self.calendars[calendar], start_at, parse_duration(duration.strip().strip('"')))
        except DurationError as error:
            raise InvalidInput(f"timer duration {duration!r} on calendar {calendar!r}: {error}") from None

    def calendar_due(self, calendar: str, start_at: datetime, duration: str) -> datetime:
        """An operator's deadline check: `duration` after `start_at` on `calendar`, in the calendar's zone."""
        if start_at.tzinfo is None or start_at.utcoffset() is None:
            raise InvalidInput(f"start {start_at.isoformat()} has no UTC offset; add one, such as +02:00 or Z")
        if calendar not in self.calendars:
            raise InvalidInput(f"unknown calendar {calendar!r}; known: {', '.join(sorted(self.calendars))}")
        try:
            return due(self.calendars[calendar], start_at, parse_duration(duration))
        except DurationError as error:
            raise InvalidInput(f"duration: {error}") from None

    def office_hours(self, calendar: str, at: datetime) -> OfficeHours:
        """Whether `calendar` is open at `at`, why it is closed today (holiday, closure) and when it opens next."""
        if calendar not in self.calendars:
            raise InvalidInput(f"unknown calendar {calendar!r}; known: {', '.join(sorted(self.calendars))}")
        return office_hours(self.calendars[calendar], at)

    def calendar_list(self) -> list[dict]:
        """The known calendars as plain data (name, zone, weekly hours, holidays, business day), by name."""
        return [describe(self.calendars[name]) for name in sorted(self.calendars)]

    # -- SLA files -----------------------------------------------------------------------------------------
    def case_sla(self, model) -> CaseSla | None:
        """The SLA file of a built model (None when its process names none); parsed once per file text."""
        name = model.properties.get(SLA_PROPERTY)
        if not name:
            return None
        text = model.files.get(name)
        if text is None:
            raise InvalidModel(f"the process names SLA file {name!r}, which is not in the bundle", file=name)
        sla = self._files.get(text)
        if sla is None:
            sla = self._files[text] = self._load(name, text)
        return sla

    def check_model(self, model) -> None:
        """Refuse a bundle whose SLA file or business-time timers are wrong (called before deploying)."""
        self.case_sla(model)
        for spec_group in (model.spec, *model.subprocess_specs.values()):
            for task_spec in (spec_group.task_specs.values() if spec_group is not None else ()):
                calendar = ((getattr(task_spec, "extensions", None) or {}).get("properties") or {}).get("calendar")
                if calendar and calendar not in self.calendars:
                    raise InvalidModel(f"unknown calendar {calendar!r}; known: {', '.join(sorted(self.calendars))}",
                                       element_id=task_spec.bpmn_id)

    def _load(self, name: str, text: str) -> CaseSla:
        try:
            return load_case_sla(json.loads(text), self.calendars)
        except json.JSONDecodeError as error:
            raise InvalidModel(f"invalid JSON: {error.msg}", file=name, line=error.lineno) from None
        except SlaConfigError as error:
            raise InvalidModel(str(error), file=name) from None

    # -- the save hook -------------------------------------------------------------------------------------
    def write_rows(self, conn, work) -> None:
        """Bring the instance's clocks up to date with this save, writing clock rows and SLA events."""
        sla = self.case_sla(work.model)
        if sla is None or work.row.status == "error":
            return
        row, now = work.row, work.now
        data = case_data(work)
        clocks = store.load(conn, row.id, self.calendars, sla.policy.ladders)
        events: list[ClockEvent] = []
        touched: set[str] = set()

        def apply(name: str, transition) -> None:
            clocks[name].clock, event = transition
            touched.add(name)
            if event is not None:
                events.append(event)

        done = {e.get("element_id") for e in work.events if e["kind"] in _DONE_KINDS}
        urgent = sla.is_urgent(data)
        if row.status == "running":
            try:
                agreed = self.agreements(conn, row.id) if self.agreements and row.id is not None else {}
                targets = targets_for(sla.policy, data, agreed or client_agreement(data))
            except SlaConfigError as error:
                raise InvalidInput(f"SLA agreement in the case data: {error}") from None
            for name, target in targets.items():
                current = clocks.get(name)
                if current is None:
                    clock, event = start(target, now)
                    clocks[name] = store.StoredClock(None, clock, _first_level(clock), urgent=urgent)
                    touched.add(name)
                    events.append(event)
                elif current.clock.state in (RUNNING, PAUSED) and _differs(current.clock.target, target):
                    apply(name, current.clock.retarget(target, now))
        for stored in clocks.values():  # a breach is dated at the due time, before this save pauses or stops
            events.extend(self.advance(stored, now, touched))
        for name, elements in sla.reopen_by.items():
            if name in clocks and elements & done and clocks[name].clock.state in (MET, BREACHED):
                apply(name, clocks[name].clock.reopen(now))
        for name, stored in clocks.items():
            if stored.clock.state in (RUNNING, PAUSED) and (sla.met_by.get(name, frozenset()) & done
                                                           or row.status == "completed"):
                apply(name, stored.clock.stop(now))
                stored.team, stored.agent = _credited(work)
            elif stored.clock.state in (RUNNING, PAUSED) and (stored.team or stored.agent):
                stored.team = stored.agent = None  # reopened: credited again when it stops
                touched.add(name)
        if row.status == "cancelled":
            status, pausing = CANCELLED, True  # a cancelled case is neither met nor breached: its clocks halt
        else:
            status = work.workflow.data.get(HOLD) or sla.case_status(data)
            pausing = status is not None and sla.policy.pauses(status)
        for name, stored in clocks.items():
            if pausing and stored.clock.state == RUNNING:
                apply(name, stored.clock.pause(now, status))
            elif not pausing and stored.clock.state == PAUSED:
                apply(name, stored.clock.resume(now))
        for name, stored in clocks.items():
            if stored.urgent != urgent and stored.clock.state in (RUNNING, PAUSED):
                stored.urgent = urgent
                touched.add(name)
            events.extend(self.advance(stored, now, touched))
        for name in touched:
            store.save(conn, row.id, clocks[name], now, sla.policy.version)
        store.append(conn, row.id, events, work.actor.username)
        order_tasks(conn, row.id, [stored.clock for stored in clocks.values()])

    def advance(self, stored: store.StoredClock, now: datetime, touched: set[str]) -> list[ClockEvent]:
        """Record a breach once, and move the clock up its ladder to the level holding it at `now`."""
        name = stored.clock.target.name
        stored.clock, breach = stored.clock.tick(now)
        events = [breach] if breach is not None else []
        if breach is not None:
            touched.add(name)
        level, escalated = _ladder_position(stored, now)
        if (level, escalated) != (stored.level, stored.escalated):
            stored.level, stored.escalated = level, escalated
            touched.add(name)
        return events

    def refer(self, conn, work, target: str, reason: str) -> ClockEvent:
        """A manual "escalate now": the level above the current one takes the case, with its own deadline."""
        sla = self.case_sla(work.model)
        if sla is None:
            raise InvalidInput(f"process {work.row.process_key!r} has no SLA")
        clocks = store.load(conn, work.row.id, self.calendars, sla.policy.ladders)
        stored = clocks.get(target)
        if stored is None:
            raise InvalidInput(f"no {target!r} clock on this case; clocks: {', '.join(sorted(clocks)) or 'none'}")
        if stored.clock.state not in (RUNNING, PAUSED):
            raise InvalidInput(f"the {target} clock is {stored.clock.state}; only an open clock can be escalated")
        try:
            point = refer_upward(stored.clock, stored.level or _first_level(stored.clock), work.now)
        except ValueError as error:
            raise InvalidInput(str(error)) from None
        event = record(stored.clock, point)
        event = ClockEvent(**{**event.__dict__, "reason": f"referral: {reason}".strip(": ")})
        stored.level, stored.escalated = point.level, True
        store.save(conn, work.row.id, stored, work.now, sla.policy.version)
        store.append(conn, work.row.id, [event], work.actor.username)
        return event


def order_tasks(conn, instance_id: int, clocks) -> None:
    """The inbox's order for a case's open tasks (`sort_due`): its earliest running SLA clock's due time in
    business time, or the task's own due time when no clock runs (none, paused or stopped)."""
    dues = [clock.due for clock in clocks if clock.state == RUNNING and clock.due is not None]
    sla_due = min(dues) if dues else None
    for task in conn.execute(select(TASK.c.id, TASK.c.due_at, TASK.c.sort_due).where(
            TASK.c.instance_id == instance_id)):
        wanted = sla_due or task.due_at or NO_DUE_DATE
        if task.sort_due != wanted:
            conn.execute(update(TASK).where(TASK.c.id == task.id).values(sort_due=wanted))


def _credited(work) -> tuple[str | None, str | None]:
    """(lane, user) a clock stopping in this save is credited to: the step completed in it, else whoever saved."""
    done = [e for e in work.events if e["kind"] == "task_completed"]
    if done:
        return done[-1]["detail"].get("lane"), done[-1]["actor"]
    return None, None if work.actor.username == SYSTEM_ACTOR else work.actor.username


def case_data(work) -> dict:
    """The values SLA conditions read: the process data, the latest task's data on top, and the process key."""
    workflow = work.workflow
    last = workflow.last_task.data if workflow.last_task is not None else {}
    return {"process": work.row.process_key, **workflow.data, **last}


def _differs(current, wanted) -> bool:
    return (str(current.duration), current.calendar.name, current.ladder and current.ladder.name) != \
        (str(wanted.duration), wanted.calendar.name, wanted.ladder and wanted.ladder.name)


def _first_level(clock) -> str | None:
    ladder = clock.target.ladder
    return ladder.levels[0].role if ladder else None


def _ladder_position(stored: store.StoredClock, now: datetime) -> tuple[str | None, bool]:
    """Who holds a running clock at `now` on its ladder; a manual referral higher up is kept."""
    level, escalated = stored.level or _first_level(stored.clock), stored.escalated
    ladder = stored.clock.target.ladder
    if ladder is None:
        return level, escalated
    roles = [rung.role for rung in ladder.levels]
    for point in schedule(stored.clock):
        if point.when <= now and point.kind in (BREACH, ESCALATION) and \
                (level not in roles or roles.index(point.level) > roles.index(level)):
            level, escalated = point.level, True
    return level, escalated
