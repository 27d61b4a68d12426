"""The report tables: a few SQL queries each over instances, events, facts and open tasks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, distinct, func, or_, select, tuple_

from engine.models import Event, HumanTask, InstanceFact, ProcessInstance, Timer

from .filters import Filters
from .milestones import MILESTONES, MilestoneMap
from .sql import Spread, hours, seconds_between, spreads, week_of

PI = ProcessInstance.__table__
EV = Event.__table__
FACT = InstanceFact.__table__
TASK = HumanTask.__table__
TIMER = Timer.__table__
ENDED = ("completed", "cancelled")
NONE = "(none)"
SEVERITY_ORDER = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class Table:
    """One report table: what a chart draws and a CSV export holds."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple]

    def column(self, name: str) -> list:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]


@dataclass(frozen=True)
class Context:
    conn: object
    filters: Filters
    milestones: MilestoneMap
    now: datetime


# -- building blocks ---------------------------------------------------------------------------------------------

def _narrow(stmt, ctx: Context, keys: list[str] | None = None):
    """Keep rows of the chosen process and category (and of `keys`, the processes a measure applies to)."""
    f = ctx.filters
    if f.process:
        stmt = stmt.where(PI.c.process_key == f.process)
    if keys is not None:
        stmt = stmt.where(PI.c.process_key.in_(keys))
    if f.category:
        stmt = stmt.where(PI.c.id.in_(select(FACT.c.instance_id).where(FACT.c.name == "category",
                                                                       FACT.c.value == f.category)))
    return stmt


def _opened(ctx: Context, keys: list[str] | None = None):
    """Cases opened in the date range: id, process_key, started_at."""
    f = ctx.filters
    stmt = select(PI.c.id, PI.c.process_key, PI.c.started_at).where(PI.c.started_at >= f.since,
                                                                    PI.c.started_at < f.until)
    return _narrow(stmt, ctx, keys).subquery("cases")


def _milestone_events(ctx: Context, name: str) -> list:
    """Conditions on `event` (joined to its instance) for the events that reach a milestone."""
    pairs = sorted(ctx.milestones.of(name))
    return [EV.c.element_id.in_(sorted({element for _, element in pairs})), EV.c.kind.in_(MILESTONES[name].kinds),
            tuple_(PI.c.process_key, EV.c.element_id).in_(pairs)]


def _reached(ctx: Context, name: str, first: bool = True):
    """Per instance: when a milestone was first (or last) reached, and how often."""
    if MILESTONES[name].source == "timer":
        return _fired(ctx, name)
    at = func.min(EV.c.at) if first else func.max(EV.c.at)
    return (select(EV.c.instance_id, at.label("at"), func.count().label("times"))
            .join(PI, PI.c.id == EV.c.instance_id).where(*_milestone_events(ctx, name))
            .group_by(EV.c.instance_id).subquery(name))


def _fired(ctx: Context, name: str):
    """Per instance: when a timer of a milestone first fired, and how many did."""
    pairs = sorted(ctx.milestones.of(name))
    return (select(TIMER.c.instance_id, func.min(TIMER.c.fired_at).label("at"), func.count().label("times"))
            .join(PI, PI.c.id == TIMER.c.instance_id)
            .where(TIMER.c.fired_at.is_not(None), TIMER.c.element_id.in_(sorted({e for _, e in pairs})),
                   tuple_(PI.c.process_key, TIMER.c.element_id).in_(pairs))
            .group_by(TIMER.c.instance_id).subquery(name))


def _fact(name: str, instance_id):
    alias = FACT.alias(f"fact_{name}")
    return alias, and_(alias.c.instance_id == instance_id, alias.c.name == name)


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _severity_key(value: str) -> tuple:
    return (SEVERITY_ORDER.index(value), "") if value in SEVERITY_ORDER else (len(SEVERITY_ORDER), value)


# -- the tables ----------------------------------------------------------------------------------------------------

def volume(ctx: Context) -> list[tuple]:
    f, conn = ctx.filters, ctx.conn
    week = week_of(PI.c.started_at)
    opened = _narrow(select(week, func.count()).where(PI.c.started_at >= f.since, PI.c.started_at < f.until), ctx)
    week = week_of(PI.c.ended_at)
    closed = _narrow(select(week, func.count()).where(PI.c.ended_at >= f.since, PI.c.ended_at < f.until,
                                                      PI.c.status.in_(ENDED)), ctx)
    opened_by = dict(conn.execute(opened.group_by(week_of(PI.c.started_at))).all())
    closed_by = dict(conn.execute(closed.group_by(week)).all())
    return [(w, opened_by.get(w, 0), closed_by.get(w, 0)) for w in f.weeks()]


MEASURES = (("acknowledge", "acknowledged", True), ("resolve", "resolved", False))


def response_times(ctx: Context) -> list[tuple]:
    rows = []
    for measure, milestone, first in MEASURES:
        keys = ctx.milestones.keys(milestone)
        if not keys:
            continue
        cases, reached = _opened(ctx, keys), _reached(ctx, milestone, first)
        severity, on = _fact("severity", cases.c.id)
        durations = (select(func.coalesce(severity.c.value, NONE).label("severity"),
                            seconds_between(cases.c.started_at, reached.c.at).label("value"))
                     .join(reached, reached.c.instance_id == cases.c.id).outerjoin(severity, on).subquery())
        overall = spreads(ctx.conn, durations).get((), Spread(0, None, None))
        rows.append((measure, "all", overall.count, hours(overall.median), hours(overall.p90)))
        by_severity = spreads(ctx.conn, durations, ("severity",))
        for (value,), spread in sorted(by_severity.items(), key=lambda item: _severity_key(item[0][0])):
            rows.append((measure, value, spread.count, hours(spread.median), hours(spread.p90)))
    return rows


def _breach_groups(ctx: Context) -> list[tuple]:
    keys = ctx.milestones.keys("breached")
    if not keys:
        return []
    cases, breached = _opened(ctx, keys), _reached(ctx, "breached")
    category, on_category = _fact("category", cases.c.id)
    severity, on_severity = _fact("severity", cases.c.id)
    groups = (func.coalesce(category.c.value, NONE), func.coalesce(severity.c.value, NONE))
    stmt = (select(*groups, func.count(), func.count(breached.c.instance_id)).select_from(cases)
            .outerjoin(category, on_category).outerjoin(severity, on_severity)
            .outerjoin(breached, breached.c.instance_id == cases.c.id).group_by(*groups))
    return ctx.conn.execute(stmt).all()


def _breaches_by(ctx: Context, position: int, order: Callable = lambda value: value) -> list[tuple]:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in _breach_groups(ctx):
        totals[row[position]][0] += row[2]
        totals[row[position]][1] += row[3]
    return [(name, cases, breached, _rate(breached, cases))
            for name, (cases, breached) in sorted(totals.items(), key=lambda item: order(item[0]))]


def breach_by_category(ctx: Context) -> list[tuple]:
    return _breaches_by(ctx, 0)


def breach_by_severity(ctx: Context) -> list[tuple]:
    return _breaches_by(ctx, 1, _severity_key)


def escalations(ctx: Context) -> list[tuple]:
    f = ctx.filters
    if not ctx.milestones.of("escalated"):
        return [(w, 0, 0) for w in f.weeks()]
    week = week_of(EV.c.at)
    stmt = (select(week, func.count(distinct(EV.c.instance_id)), func.count()).join(PI, PI.c.id == EV.c.instance_id)
            .where(EV.c.at >= f.since, EV.c.at < f.until, *_milestone_events(ctx, "escalated")))
    found = {row[0]: row[1:] for row in ctx.conn.execute(_narrow(stmt, ctx).group_by(week))}
    return [(w, *found.get(w, (0, 0))) for w in f.weeks()]


def reopens(ctx: Context) -> list[tuple]:
    keys = ctx.milestones.keys("resolved")
    if not keys:
        return []
    cases, resolved = _opened(ctx, keys), _reached(ctx, "resolved")
    again = resolved.c.times > 1
    stmt = select(week_of(cases.c.started_at).label("week"), resolved.c.instance_id.label("resolved"))
    if ctx.milestones.of("reopened"):
        reopened = _reached(ctx, "reopened")
        again = or_(again, reopened.c.instance_id.is_not(None))
        stmt = stmt.outerjoin(reopened, reopened.c.instance_id == cases.c.id)
    stmt = stmt.add_columns(case((and_(resolved.c.instance_id.is_not(None), again), 1), else_=0).label("again"))
    per_case = stmt.select_from(cases).outerjoin(resolved, resolved.c.instance_id == cases.c.id).subquery()
    weekly = select(per_case.c.week, func.count(per_case.c.resolved), func.sum(per_case.c.again)).group_by(
        per_case.c.week)
    found = {week: (count, int(again or 0)) for week, count, again in ctx.conn.execute(weekly)}
    return [(w, *found.get(w, (0, 0)), _rate(found.get(w, (0, 0))[1], found.get(w, (0, 0))[0]))
            for w in ctx.filters.weeks()]


def _ratings(ctx: Context):
    """Survey answers given in the range; process and category filters apply to the case an answer is about."""
    f = ctx.filters
    rating, about = FACT.alias("rating"), FACT.alias("about")
    own, subject = PI.alias("own"), PI.alias("subject")
    stmt = (select(week_of(rating.c.set_at).label("week"), rating.c.number.label("rating")).select_from(rating)
            .join(own, own.c.id == rating.c.instance_id)
            .outerjoin(about, and_(about.c.instance_id == rating.c.instance_id, about.c.name == "about_reference"))
            .outerjoin(subject, subject.c.reference == about.c.value)
            .where(rating.c.name == "rating", rating.c.number.is_not(None), rating.c.set_at >= f.since,
                   rating.c.set_at < f.until))
    if f.process:
        stmt = stmt.where(func.coalesce(subject.c.process_key, own.c.process_key) == f.process)
    if f.category:
        stmt = stmt.where(func.coalesce(subject.c.id, own.c.id).in_(
            select(FACT.c.instance_id).where(FACT.c.name == "category", FACT.c.value == f.category)))
    return stmt.subquery("ratings")


def satisfaction_trend(ctx: Context) -> list[tuple]:
    ratings = _ratings(ctx)
    stmt = select(ratings.c.week, func.count(), func.avg(ratings.c.rating)).group_by(ratings.c.week)
    found = {week: (count, round(float(average), 2)) for week, count, average in ctx.conn.execute(stmt)}
    return [(w, *found.get(w, (0, None))) for w in ctx.filters.weeks()]


def satisfaction_distribution(ctx: Context) -> list[tuple]:
    ratings = _ratings(ctx)
    stmt = select(ratings.c.rating, func.count()).group_by(ratings.c.rating).order_by(ratings.c.rating)
    found = {float(value): count for value, count in ctx.conn.execute(stmt)}
    scores = sorted(set(found) | {1.0, 2.0, 3.0, 4.0, 5.0})
    return [(int(s) if s.is_integer() else s, found.get(s, 0)) for s in scores]


def _gate_waits(ctx: Context):
    waited = func.sum(EV.c.detail["waited_ms"].as_float()) / 1000.0
    return (select(EV.c.instance_id, waited.label("value")).join(PI, PI.c.id == EV.c.instance_id)
            .where(*_milestone_events(ctx, "compliance_gate")).group_by(EV.c.instance_id).subquery("gate"))


def onboarding(ctx: Context) -> list[tuple]:
    rows = []
    if keys := ctx.milestones.keys("activated"):
        cases, activated = _opened(ctx, keys), _reached(ctx, "activated")
        durations = (select(seconds_between(cases.c.started_at, activated.c.at).label("value"))
                     .join(activated, activated.c.instance_id == cases.c.id).subquery())
        waiting = (select(func.count()).select_from(cases).join(PI, PI.c.id == cases.c.id)
                   .outerjoin(activated, activated.c.instance_id == cases.c.id)
                   .where(activated.c.instance_id.is_(None), PI.c.status == "running"))
        rows.append(_spread_row("start to activation", durations, waiting, ctx))
    if keys := ctx.milestones.keys("compliance_gate"):
        cases, gate = _opened(ctx, keys), _gate_waits(ctx)
        durations = select(gate.c.value).join(cases, cases.c.id == gate.c.instance_id).subquery()
        waiting = (select(func.count()).select_from(TASK).join(cases, cases.c.id == TASK.c.instance_id)
                   .where(TASK.c.element_id.in_(ctx.milestones.elements("compliance_gate"))))
        rows.append(_spread_row("waiting at the compliance gate", durations, waiting, ctx))
    return rows


def _spread_row(measure: str, durations, waiting, ctx: Context) -> tuple:
    spread = spreads(ctx.conn, durations).get((), Spread(0, None, None))
    return measure, spread.count, ctx.conn.execute(waiting).scalar_one(), hours(spread.median), hours(spread.p90)


def wip(ctx: Context) -> list[tuple]:
    unclaimed = func.sum(case((TASK.c.claimed_by.is_(None), 1), else_=0))
    overdue = func.sum(case((and_(TASK.c.due_at.is_not(None), TASK.c.due_at < ctx.now), 1), else_=0))
    stmt = (select(TASK.c.lane, func.count(), unclaimed, overdue, func.min(TASK.c.created_at))
            .join(PI, PI.c.id == TASK.c.instance_id).group_by(TASK.c.lane))
    rows = ctx.conn.execute(_narrow(stmt, ctx)).all()
    return sorted(((lane or NONE, count, int(free or 0), int(late or 0),
                    hours(seconds_since(oldest, ctx.now))) for lane, count, free, late, oldest in rows),
                  key=lambda row: (-row[1], row[0]))


def categories(conn) -> list[str]:
    stmt = select(FACT.c.value).where(FACT.c.name == "category").distinct().order_by(FACT.c.value)
    return list(conn.execute(stmt).scalars())


def seconds_since(moment, now: datetime) -> float | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # a MIN() over a UTC column comes back as text/naive on SQLite
        moment = moment.replace(tzinfo=now.tzinfo)
    return (now - moment).total_seconds()
