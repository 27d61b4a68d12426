"""SLA use cases that change a case: escalate now (refer upward), hold while waiting on the client, and the tick
that records breaches and ladder moves without waiting for a save.

Each runs in one transaction with the instance, so the clock rows, the SLA events and the audit trail commit
together or not at all.
"""

from datetime import datetime, timedelta

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from sqlalchemy import select

from engine.core import business_time, definitions
from engine.core.db.models import ProcessInstance
from engine.core.unit_of_work import change, run_step
from engine.errors import ConcurrentUpdate, InstanceNotRunning, InvalidInput

from . import store
from .calendar import elapsed
from .clocks import PAUSED, RUNNING
from .service import HOLD, SlaService

REFERRAL_MESSAGE = "sla_referral"  # a model catches it where a referral moves the work (docs/sla.md)
WAITING_ON_CLIENT = "waiting on client"
_REASON_LIMIT = 500


def _reason(reason: str | None, what: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidInput(f"give a reason for {what}")
    if len(text) > _REASON_LIMIT:
        raise InvalidInput(f"the reason is {len(text)} characters; at most {_REASON_LIMIT}")
    return text


def _case_sla(sla: SlaService, work):
    case_sla = sla.case_sla(work.model)
    if case_sla is None:
        raise InvalidInput(f"process {work.row.process_key!r} has no SLA")
    if work.row.status != "running":
        raise InstanceNotRunning(f"instance {work.row.id} is {work.row.status}")
    return case_sla


def refer(services, sla: SlaService, instance_id: int, target: str, reason: str, actor):
    """Escalate now: the next level of the target's ladder takes the case, with its own deadline from now.

    When the model waits for the `sla_referral` message (a boundary event on the task being worked), it is
    caught with `{"reason", "level", "target"}`, so the work moves to that level's lane too."""
    text = _reason(reason, "escalating the case")

    def act(work):
        _case_sla(sla, work)
        event = sla.refer(work.conn, work, target, text)
        level = event.detail["level"]
        work.record("sla_referred", target=target, level=level, reason=text, deadline=event.detail["deadline"])
        if any(e.event_type == "MessageEventDefinition" and e.name == REFERRAL_MESSAGE
               for e in work.workflow.waiting_events()):
            message = BpmnEvent(MessageEventDefinition(REFERRAL_MESSAGE),
                                {"reason": text, "level": level, "target": target})
            run_step(work, lambda: work.workflow.catch(message))
        return event

    event, _ = change(services, instance_id, actor, act)
    return event


def hold(services, sla: SlaService, instance_id: int, reason: str, actor, status: str = WAITING_ON_CLIENT):
    """Put a case on hold (`status`, one of its policy's `pause_on`): its clocks pause and its business-time
    timers stop with the time they had left."""
    text = _reason(reason, "putting the case on hold")

    def act(work):
        case_sla = _case_sla(sla, work)
        if not case_sla.policy.pauses(status):
            raise InvalidInput(f"the SLA of {work.row.process_key!r} does not pause on {status!r}; it pauses on: "
                               f"{', '.join(case_sla.policy.pause_on) or 'nothing'}")
        if work.workflow.data.get(HOLD):
            raise InvalidInput(f"the case is already on hold ({work.workflow.data[HOLD]})")
        now = work.now

        def left(calendar: str, due: datetime) -> timedelta:
            return elapsed(sla.calendars[calendar], now, due) if due > now else timedelta(0)

        work.workflow.data[HOLD] = status
        parked = business_time.hold(work.workflow, left)
        work.record("sla_held", status=status, reason=text, timers=parked)

    return change(services, instance_id, actor, act)[1]


def release(services, sla: SlaService, instance_id: int, actor, note: str = ""):
    """End a hold (the client replied): clocks resume and parked timers get their time left back."""

    def act(work):
        _case_sla(sla, work)
        status = work.workflow.data.pop(HOLD, None)
        if not status:
            raise InvalidInput("the case is not on hold")
        resumed = business_time.release(work.workflow, work.now, sla.business_due)
        work.record("sla_released", status=status, note=note.strip()[:_REASON_LIMIT], timers=resumed)

    return change(services, instance_id, actor, act)[1]


def tick(services, sla: SlaService, now: datetime, limit: int = 500) -> int:
    """Record breaches and ladder moves of running clocks due by `now`, without a save of the case.

    Each case is brought up to date in its own write transaction, with its instance row locked first, so a
    save of the same case waits for it (or it for the save) and nothing is recorded twice. Returns how many
    clock rows changed."""
    with services.sql_engine.connect() as conn:
        candidates = store.open_due_before(conn, now, limit)
    changed = 0
    for instance_id in candidates:
        try:
            changed += _tick_one(services, sla, instance_id, now)
        except ConcurrentUpdate:
            continue  # the case is being saved: that save brings its clocks up to date
    return changed


def _tick_one(services, sla: SlaService, instance_id: int, now: datetime) -> int:
    with services.write_connection() as conn:
        row = conn.execute(select(ProcessInstance.definition_id, ProcessInstance.status)
                           .where(ProcessInstance.id == instance_id).with_for_update()).one_or_none()
        if row is None or row.status != "running":
            return 0
        case_sla = sla.case_sla(definitions.model_for(services, conn, row.definition_id))
        if case_sla is None:
            return 0
        clocks = store.load(conn, instance_id, sla.calendars, case_sla.policy.ladders)
        touched: set[str] = set()
        events = []
        for stored in clocks.values():
            if stored.clock.state in (RUNNING, PAUSED):
                events.extend(sla.advance(stored, now, touched))
        for name in touched:
            store.save(conn, instance_id, clocks[name], now, case_sla.policy.version)
        store.append(conn, instance_id, events, None)
        return len(touched)
