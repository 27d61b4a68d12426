"""Helpers that read the whole database: every text value of every table, and the figures reports use."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta

from sqlalchemy import select

from engine import privacy, reports
from engine.core.db.models import Base, Event, Notification, ProcessInstance, Timer


def traces(engine, values: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, value) for each of `values` found, case-insensitively, in any column of any table."""
    wanted = [v.casefold() for v in values]
    found = []
    with engine.sql_engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for column, cell in row._mapping.items():
                    if cell is None:
                        continue
                    text = cell if isinstance(cell, str) else json.dumps(cell, default=str, ensure_ascii=False)
                    found += [(table.name, column, v) for v in wanted if v in text.casefold()]
    return found


def figures(engine, today: date) -> dict:
    """What reports are made of: the dashboard's tables, instance durations, event, timer and mail counts."""
    with engine.sql_engine.connect() as conn:
        dashboard = reports.dashboard(conn, reports.Filters(today - timedelta(days=60), today), engine.clock.now())
        instances = [(r.id, r.process_key, r.status, r.reference, r.started_at, r.ended_at,
                      (r.ended_at - r.started_at) if r.ended_at else None)
                     for r in conn.execute(select(ProcessInstance.__table__).order_by(ProcessInstance.id))]
        events = Counter((r.instance_id, r.kind, r.element_id, r.at) for r in conn.execute(select(Event.__table__))
                         if r.kind != privacy.ERASED_EVENT)
        timers = sorted((r.instance_id, r.element_id, r.due_at, r.fired_at, r.cancelled_at)
                        for r in conn.execute(select(Timer.__table__)))
        mail = sorted((r.id, r.instance_id, r.template, r.created_at, r.sent_at)
                      for r in conn.execute(select(Notification.__table__)))
    return {"dashboard": {name: t.rows for name, t in dashboard.items()}, "instances": instances,
            "events": events, "timers": timers, "mail": mail}
