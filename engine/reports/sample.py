"""A synthetic history of closed cases, written in bulk, to measure the reports at scale (`clientflow bench`).

The rows are what the engine writes for the shipped models (instances, milestone events, SLA timers, facts,
survey answers) with made-up timings; their states are empty, so they are for reading reports only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, insert, select

from engine.core.db.models import Event, InstanceFact, ProcessDefinition, ProcessInstance, Timer

CATEGORIES = ("product_quality", "delivery", "billing", "service", "staff_conduct", "safety_environment", "other")
SEVERITIES = ("low", "medium", "high", "critical")
BATCH = 5_000


def _definition_ids(conn) -> dict[str, int]:
    rows = conn.execute(select(ProcessDefinition.key, func.max(ProcessDefinition.id)).group_by(ProcessDefinition.key))
    return dict(rows.all())


def _complaint(i: int, case_id: int, started: datetime, rows: dict) -> datetime:
    hours = timedelta(hours=1)
    ack = started + hours * (1 + i % 30)
    resolved = ack + hours * (8 + (i * 7) % 200)
    rows["events"] += [_event(case_id, "instance_started", None, started),
                       _event(case_id, "script_ran", "send_acknowledgement", ack),
                       _event(case_id, "script_ran", "inform_resolution", resolved)]
    if i % 20 == 0:
        rows["events"] += [_event(case_id, "script_ran", "reopen", resolved + hours * 24),
                           _event(case_id, "script_ran", "inform_resolution", resolved + hours * 72)]
        resolved += hours * 72
    if i % 9 == 0:
        rows["timers"].append(_timer(case_id, "sla_breached", ack + hours * 48, fired=True))
        rows["events"].append(_event(case_id, "script_ran", "escalate_to_supervisor", ack + hours * 48))
    if i % 13 == 0:
        rows["timers"].append(_timer(case_id, "acknowledgement_overdue", started + hours * 24, fired=True))
    rows["timers"].append(_timer(case_id, "sla_warning", ack + hours * 40, fired=False))
    for name, value in (("category", CATEGORIES[i % 7]), ("severity", SEVERITIES[(i // 7) % 4]),
                        ("channel", "email")):
        rows["facts"].append({"instance_id": case_id, "name": name, "value": value, "number": None,
                              "set_at": started})
    return resolved + hours * 24


def _onboarding(i: int, case_id: int, started: datetime, rows: dict) -> datetime:
    hours = timedelta(hours=1)
    gate = started + hours * (24 + i % 96)
    rows["events"] += [_event(case_id, "instance_started", None, started),
                       _event(case_id, "task_completed", "compliance_check", gate, waited_ms=(6 + i % 40) * 3600_000),
                       _event(case_id, "task_completed", "activate_service", gate + hours * 30)]
    return gate + hours * 200


def _event(case_id: int, kind: str, element_id: str | None, at: datetime, **detail) -> dict:
    return {"instance_id": case_id, "kind": kind, "element_id": element_id, "at": at, "actor": "sample",
            "task_id": None, "detail": detail}


def _timer(case_id: int, element_id: str, due: datetime, fired: bool) -> dict:
    return {"instance_id": case_id, "task_id": f"sample-{case_id}-{element_id}"[:36], "element_id": element_id,
            "name": element_id, "kind": "duration", "interrupting": element_id != "sla_warning", "due_at": due,
            "created_at": due, "fired_at": due if fired else None, "cancelled_at": None if fired else due}


def write_history(conn, count: int, now: datetime, days: int = 180) -> int:
    """Add `count` closed cases (70 % complaints, 20 % onboardings, 10 % surveys) spread over `days`."""
    definitions = _definition_ids(conn)
    missing = {"complaint_handling", "client_onboarding", "feedback"} - set(definitions)
    if missing:
        raise ValueError(f"deploy the shipped processes first (missing: {', '.join(sorted(missing))})")
    first = (conn.execute(select(func.max(ProcessInstance.id))).scalar() or 0) + 1
    for offset in range(0, count, BATCH):
        rows: dict[str, list] = {"instances": [], "events": [], "timers": [], "facts": []}
        for i in range(offset, min(count, offset + BATCH)):
            case_id = first + i
            started = now - timedelta(seconds=(i * 7919) % (days * 86400))
            key = "complaint_handling" if i % 10 < 7 else "client_onboarding" if i % 10 < 9 else "feedback"
            if key == "complaint_handling":
                ended = _complaint(i, case_id, started, rows)
            elif key == "client_onboarding":
                ended = _onboarding(i, case_id, started, rows)
            else:
                ended = started
                score = 1 + (i // 10) % 5
                rows["facts"] += [{"instance_id": case_id, "name": "rating", "value": str(score),
                                   "number": float(score), "set_at": started},
                                  {"instance_id": case_id, "name": "about_reference",
                                   "value": f"SAMPLE-{first + i - 3:07d}", "set_at": started, "number": None}]
            rows["instances"].append({
                "id": case_id, "definition_id": definitions[key], "process_key": key, "version": 1,
                "status": "completed" if ended <= now else "running", "reference": f"SAMPLE-{case_id:07d}",
                "label": f"Sample client {i}", "started_by": "sample", "started_at": started,
                "updated_at": min(ended, now), "ended_at": ended if ended <= now else None, "state": "{}",
                "serializer_version": "sample", "lock_version": 1})
        for table, values in ((ProcessInstance, rows["instances"]), (Event, rows["events"]), (Timer, rows["timers"]),
                              (InstanceFact, rows["facts"])):
            if values:
                conn.execute(insert(table), values)
    return count
