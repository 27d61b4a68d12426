"""The web benchmark's data: a small model, its cases started through the engine, then copied in bulk with fresh ids."""


from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from engine.core.db.models import Event, HumanTask, InstanceFact, ProcessInstance, ReferenceCounter
from sqlalchemy import func, insert, select, text, update

BENCH_KEY = "bench_web"
AGENT, MANAGER, PASSWORD = "bench-agent", "bench-manager", "bench-password-1"
CATEGORIES = ("billing", "delivery", "service", "product_quality", "other")
BATCH = 5_000
BENCH_FORM = json.dumps({"title": "Review", "type": "object", "required": ["decision"], "properties": {
    "decision": {"type": "string", "title": "Decision", "enum": ["accept", "reject"]},
    "note": {"type": "string", "title": "Note", "maxLength": 500}}})
BENCH_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="bench_web_defs"
                  targetNamespace="http://clientflow.example/bench">
  <bpmn:collaboration id="bench_web_collaboration">
    <bpmn:participant id="bench_web_participant" name="Web benchmark" processRef="bench_web" />
  </bpmn:collaboration>
  <bpmn:process id="bench_web" name="Web benchmark" isExecutable="true">
    <bpmn:laneSet id="bench_web_lanes">
      <bpmn:lane id="lane_agent" name="Agent">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>tell_client</bpmn:flowNodeRef><bpmn:flowNodeRef>close</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="review" name="Review request">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="bench_review.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:scriptTask id="tell_client" name="Tell the client">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>notify("status_update", client_email, reference=reference, stage="reviewed",
       message=decision)</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="close" name="Close request">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="tell_client" />
    <bpmn:sequenceFlow id="f3" sourceRef="tell_client" targetRef="close" />
    <bpmn:sequenceFlow id="f4" sourceRef="close" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


@dataclass(frozen=True)
class Sizes:
    instances: int
    inbox_requests: int
    completions: int
    clients: int


QUICK = Sizes(instances=2_000, inbox_requests=60, completions=60, clients=4)
FULL = Sizes(instances=100_000, inbox_requests=600, completions=1_500, clients=8)
REPORT_REQUESTS = 5
SCALEOUT = ((1, 1), (2, 1), (4, 1), (1, 2), (2, 2), (4, 2))  # (gunicorn workers, RQ workers)
QUICK_SCALEOUT = ((1, 1), (2, 2))
QUICK_SCALEOUT_SIZES = Sizes(instances=1_000, inbox_requests=0, completions=40, clients=4)

Progress = Callable[[str], None]


# -- data -----------------------------------------------------------------------------------------------------------

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
MARK = "0000001"  # the number in a template case's client name and e-mail, replaced in every copy


class StateTemplate:
    """A template case's state cut at its task ids, reference and client number, to be re-joined per copy."""

    def __init__(self, state: str, reference: str):
        self.reference = reference
        self.reference_scope = reference.rsplit("-", 1)[0]
        pattern = re.compile(f"({_UUID}|{re.escape(reference)}|{MARK})")
        self.parts = pattern.split(state)  # text, token, text, token, ..., text
        self.uuids = sorted({p for p in self.parts[1::2] if re.fullmatch(_UUID, p)})

    def ids_for(self, number: int) -> dict[str, str]:
        """Fresh, unique task ids for copy `number` (valid version-4 UUID text)."""
        return {old: f"{number:08x}-{index:04x}-4000-8000-{number:012x}" for index, old in enumerate(self.uuids)}

    def render(self, number: int, ids: dict[str, str]) -> tuple[str, str]:
        """The state of copy `number` and its reference."""
        reference = f"{self.reference_scope}-{number:06d}"
        mapping = {**ids, self.reference: reference, MARK: f"{number:07d}"}
        parts = self.parts[:]
        parts[1::2] = [mapping[token] for token in parts[1::2]]
        return "".join(parts), reference


def _templates(app, count: int) -> list[tuple[int, StateTemplate]]:
    engine = app.extensions["clientflow"]
    ids = [engine.start(BENCH_KEY, {"client_name": f"Bench Client {MARK}", "client_email": f"client{MARK}@example.com",
                                    "category": category}, by=AGENT).id for category in CATEGORIES[:count]]
    with engine.sql_engine.connect() as conn:
        rows = conn.execute(select(ProcessInstance.id, ProcessInstance.state, ProcessInstance.reference)
                            .where(ProcessInstance.id.in_(ids))).all()
    return [(row.id, StateTemplate(row.state, row.reference)) for row in rows]


def seed(app, count: int, progress: Progress) -> int:
    """Deploy the bench model, start template cases, copy them to `count` cases in bulk; returns their number."""
    engine = app.extensions["clientflow"]
    from engine.core.users import save_user

    with engine.write_session.begin() as session:
        save_user(session, AGENT, ["Agent"], password=PASSWORD, email="bench-agent@example.com")
        save_user(session, MANAGER, ["Manager"], password=PASSWORD, email="bench-manager@example.com")
    engine.deploy_files({"bench_web.bpmn": BENCH_BPMN, "bench_review.json": BENCH_FORM}, BENCH_KEY, by=AGENT)
    templates = _templates(app, len(CATEGORIES))
    progress(f"copying {len(templates)} started cases to {count:,} cases")
    began = time.perf_counter()
    with engine.sql_engine.begin() as conn:
        first = conn.execute(select(func.max(ProcessInstance.id))).scalar() + 1
        base = {t_id: _template_rows(conn, t_id) for t_id, _ in templates}
        now = engine.clock.now()
        for offset in range(0, count, BATCH):
            batch = range(offset, min(count, offset + BATCH))
            _insert_batch(conn, templates, base, first, batch, now)
        scope = templates[0][1].reference_scope
        conn.execute(update(ReferenceCounter).where(ReferenceCounter.scope == scope)
                     .values(value=first + count))
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval(pg_get_serial_sequence('process_instance', 'id'), "
                              "(SELECT max(id) FROM process_instance))"))
    analyze(engine.sql_engine)
    progress(f"{count:,} cases copied in {time.perf_counter() - began:.1f} s")
    return count


def analyze(sql_engine) -> None:
    """Refresh the planner's statistics after a bulk load, as a database's routine maintenance would."""
    # In a transaction on both databases: on SQLite an autocommit connection still got our BEGIN (engine/core/db/
    # database.py) and the ANALYZE was rolled back when the connection went back to the pool.
    with sql_engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def _template_rows(conn, instance_id: int) -> dict[str, Any]:
    instance = conn.execute(select(ProcessInstance.__table__).where(ProcessInstance.id == instance_id)).one()
    tasks = conn.execute(select(HumanTask.__table__).where(HumanTask.instance_id == instance_id)).all()
    events = conn.execute(select(Event.__table__).where(Event.instance_id == instance_id)).all()
    facts = conn.execute(select(InstanceFact.__table__).where(InstanceFact.instance_id == instance_id)).all()
    return {"instance": dict(instance._mapping), "tasks": [dict(t._mapping) for t in tasks],
            "events": [dict(e._mapping) for e in events], "facts": [dict(f._mapping) for f in facts]}


def _insert_batch(conn, templates, base, first: int, numbers: range, now) -> None:
    """Insert copies number `numbers` (ids from `first`) of the template cases, table by table."""
    instances, tasks, events, facts = [], [], [], []
    for n in numbers:
        template_id, template = templates[n % len(templates)]
        rows, new_id = base[template_id], first + n
        started = now - timedelta(seconds=n * 61 % (90 * 86400))  # spread over the last 90 days
        ids = template.ids_for(new_id)
        state, reference = template.render(new_id, ids)
        instances.append({**rows["instance"], "id": new_id, "state": state, "reference": reference,
                          "label": f"Bench Client {new_id:07d}", "started_at": started, "updated_at": started})
        tasks += [{**t, "id": ids[t["id"]], "instance_id": new_id, "created_at": started} for t in rows["tasks"]]
        events += [{**{k: v for k, v in e.items() if k != "id"}, "instance_id": new_id, "at": started,
                    "detail": {**e["detail"], **({"reference": reference} if "reference" in e["detail"] else {})}}
                   for e in rows["events"]]
        facts += [{**f, "instance_id": new_id, "set_at": started} for f in rows["facts"]]
    for table, values in ((ProcessInstance, instances), (HumanTask, tasks), (Event, events), (InstanceFact, facts)):
        if values:
            conn.execute(insert(table), values)


