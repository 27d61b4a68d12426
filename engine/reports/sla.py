"""SLA attainment and breach minutes from the clocks themselves (`sla_clock`), per target, priority and category.

Minutes over are each clock's own figure (`Clock.status(now).overdue_minutes`, business time, rounded up), so the
report and the case's SLA panel never disagree. A clock counts as met when it stopped in time, as breached when
it stopped late or is still running past its due time, and as open otherwise; attainment is met / (met +
breached). Calendars are the shipped ones (engine/sla/calendars.json)."""

from __future__ import annotations

from collections import defaultdict
from functools import cache

from sqlalchemy import func, select

from engine.reports.tables import NONE, Context, _fact, _opened, _rate, _severity_key
from engine.sla import BREACHED, MET, TARGET_NAMES, Clock, shipped_calendars
from engine.sla.models import SlaClock

CLOCK = SlaClock.__table__
COLUMNS = ("target", "priority", "category", "clocks", "met", "breached", "open", "attainment_pct",
           "breach_minutes")


@cache
def _calendars():
    return shipped_calendars()


def _target_key(name: str) -> tuple:
    return (TARGET_NAMES.index(name), "") if name in TARGET_NAMES else (len(TARGET_NAMES), name)


def sla_targets(ctx: Context) -> list[tuple]:
    """One row per (target, priority, category) of the clocks of cases opened in the range."""
    cases = _opened(ctx)
    category, on_category = _fact("category", cases.c.id)
    severity, on_severity = _fact("severity", cases.c.id)
    stmt = (select(CLOCK.c.target, func.coalesce(severity.c.value, NONE), func.coalesce(category.c.value, NONE),
                   CLOCK.c.clock)
            .select_from(cases).join(CLOCK, CLOCK.c.instance_id == cases.c.id)
            .outerjoin(category, on_category).outerjoin(severity, on_severity))
    groups: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # met, breached, open, minutes
    for target, priority, category_value, data in ctx.conn.execute(stmt):
        clock = Clock.from_dict(data, _calendars())
        status = clock.status(ctx.now)
        totals = groups[(target, priority, category_value)]
        if clock.state == MET:
            totals[0] += 1
        elif clock.state == BREACHED or status.breached:
            totals[1] += 1
            totals[3] += status.overdue_minutes
        else:
            totals[2] += 1
    rows = [(target, priority, category_value, met + late + still_open, met, late, still_open,
             _rate(met, met + late), minutes)
            for (target, priority, category_value), (met, late, still_open, minutes) in groups.items()]
    return sorted(rows, key=lambda r: (_target_key(r[0]), _severity_key(r[1]), r[2]))
