"""SLA attainment and breach minutes from the clocks themselves (`sla_clock`): per target, priority and category,
per team and per agent.

Minutes over are each clock's own figure (`Clock.status(now).overdue_minutes`, business time, rounded up), so the
report and the case's SLA panel never disagree. A clock counts as met when it stopped in time, as breached when
it stopped late or is still running past its due time, and as open otherwise; attainment is met / (met +
breached). A stopped clock is credited to the team (lane) and agent of the step that stopped it; an open one to
whoever holds the case's open task now (its lane, and the user who claimed it). Calendars are the shipped ones
(engine/sla/calendars.json)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import cache

from sqlalchemy import func, select

from engine.reports.tables import NONE, TASK, Context, _fact, _opened, _rate, _severity_key
from engine.sla import BREACHED, MET, TARGET_NAMES, Clock, shipped_calendars
from engine.sla.models import SlaClock

CLOCK = SlaClock.__table__
FIGURES = ("clocks", "met", "breached", "open", "attainment_pct", "breach_minutes")
COLUMNS = ("target", "priority", "category", *FIGURES)
TEAM_COLUMNS = ("team", "target", *FIGURES)
AGENT_COLUMNS = ("agent", "target", *FIGURES)
UNASSIGNED = "(unassigned)"


@cache
def _calendars():
    return shipped_calendars()


def _target_key(name: str) -> tuple:
    return (TARGET_NAMES.index(name), "") if name in TARGET_NAMES else (len(TARGET_NAMES), name)


def _grouped(ctx: Context, stmt, key: Callable[[tuple], tuple]) -> list[tuple]:
    """(*key, clocks, met, breached, open, attainment %, minutes over) per key of the rows `stmt` gives; each row
    ends with the clock's JSON."""
    groups: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # met, breached, open, minutes
    for row in ctx.conn.execute(stmt):
        clock = Clock.from_dict(row[-1], _calendars())
        status = clock.status(ctx.now)
        totals = groups[key(row)]
        if clock.state == MET:
            totals[0] += 1
        elif clock.state == BREACHED or status.breached:
            totals[1] += 1
            totals[3] += status.overdue_minutes
        else:
            totals[2] += 1
    return [(*group, met + late + still_open, met, late, still_open, _rate(met, met + late), minutes)
            for group, (met, late, still_open, minutes) in groups.items()]


def sla_targets(ctx: Context) -> list[tuple]:
    """One row per (target, priority, category) of the clocks of cases opened in the range."""
    cases = _opened(ctx)
    category, on_category = _fact("category", cases.c.id)
    severity, on_severity = _fact("severity", cases.c.id)
    stmt = (select(CLOCK.c.target, func.coalesce(severity.c.value, NONE), func.coalesce(category.c.value, NONE),
                   CLOCK.c.clock)
            .select_from(cases).join(CLOCK, CLOCK.c.instance_id == cases.c.id)
            .outerjoin(category, on_category).outerjoin(severity, on_severity))
    rows = _grouped(ctx, stmt, lambda row: tuple(row[:3]))
    return sorted(rows, key=lambda r: (_target_key(r[0]), _severity_key(r[1]), r[2]))


def _credited(ctx: Context):
    """Clock rows of cases opened in the range with the team and agent each is credited to."""
    cases = _opened(ctx)
    # The case's open task: the oldest one (a case mostly has one open task at a time).
    holder = select(TASK.c.lane, TASK.c.claimed_by).where(TASK.c.instance_id == CLOCK.c.instance_id) \
        .order_by(TASK.c.created_at, TASK.c.id).limit(1)
    lane = holder.with_only_columns(TASK.c.lane).scalar_subquery()
    claimed_by = holder.with_only_columns(TASK.c.claimed_by).scalar_subquery()
    return (select(CLOCK.c.target, CLOCK.c.state, CLOCK.c.team, CLOCK.c.agent, lane, claimed_by, CLOCK.c.clock)
            .select_from(cases).join(CLOCK, CLOCK.c.instance_id == cases.c.id))


def _stopped(state: str) -> bool:
    return state in (MET, BREACHED)


def sla_teams(ctx: Context) -> list[tuple]:
    """One row per (team, target): a stopped clock's team is the lane of the step that stopped it."""
    rows = _grouped(ctx, _credited(ctx), lambda row: (
        (row.team if _stopped(row.state) else row[4]) or NONE, row.target))
    return sorted(rows, key=lambda r: (r[0] == NONE, r[0], _target_key(r[1])))


def sla_agents(ctx: Context) -> list[tuple]:
    """One row per (agent, target): a stopped clock's agent completed the step that stopped it; an open one's
    holds the case's open task (unassigned when nobody claimed it)."""
    rows = _grouped(ctx, _credited(ctx), lambda row: (
        (row.agent if _stopped(row.state) else row[5]) or UNASSIGNED, row.target))
    return sorted(rows, key=lambda r: (r[0] == UNASSIGNED, r[0], _target_key(r[1])))
