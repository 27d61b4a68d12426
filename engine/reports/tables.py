"""The report tables: a few SQL queries each over instances, events, facts and open tasks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select, tuple_

from engine.core.db.models import Event, HumanTask, InstanceFact, ProcessInstance, Timer
from engine.reports.filters import Filters
from engine.reports.milestones import MILESTONES, MilestoneMap
from engine.reports.sql import Spread, by_week, day_of, hours, monday_of, seconds_between, spreads
from engine.sla import store as sla_store

PI = ProcessInstance.__table__
EV = Event.__table__
FACT = InstanceFact.__table__
TASK = HumanTask.__table__
TIMER = Timer.__table__
ENDED = ("completed", "cancelled")
NONE = "(none)"
ALL = "all"
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
    """What the queries of one report request share: the connection, filters, milestones and the time now."""

    conn: object
    filters: Filters
    milestones: MilestoneMap
    now: datetime
    shared: dict = field(default_factory=dict)  # results two tables of one dashboard both need


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


def _pairs(ctx: Context, name: str) -> tuple[list[str], list[tuple[str, str]]]:
    pairs = sorted(ctx.milestones.of(name))
    return sorted({element for _, element in pairs}), pairs


def _milestone_events(ctx: Context, name: str, process_key) -> list:
    """Conditions on `event` for the events that reach a milestone (`process_key`: the case's process column)."""
    elements, pairs = _pairs(ctx, name)
    # On SQLite `kind || ''` keeps the planner off the (kind, at) index, which matches most events, and on the
    # selective (element_id, instance_id, at) one; PostgreSQL's planner needs no such hint.
    kind = EV.c.kind.concat("") if ctx.conn.dialect.name == "sqlite" else EV.c.kind
    return [EV.c.element_id.in_(elements), kind.in_(MILESTONES[name].kinds),
            tuple_(process_key, EV.c.element_id).in_(pairs)]


def _reached(ctx: Context, name: str, cases, first: bool = True):
    """Per case of `cases`: when a milestone was first (or last) reached, and how often.

    The join starts from the cases, so each case's events are found through the (element_id, instance_id) index."""
    if MILESTONES[name].source == "timer":
        return _fired(ctx, name, cases)
    at = func.min(EV.c.at) if first else func.max(EV.c.at)
    on = and_(EV.c.instance_id == cases.c.id, *_milestone_events(ctx, name, cases.c.process_key))
    return (select(cases.c.id.label("instance_id"), at.label("at"), func.count().label("times"))
            .select_from(cases).join(EV, on).group_by(cases.c.id).subquery(name))


def _fired(ctx: Context, name: str, cases):
    """Per case of `cases`: when a timer of a milestone first fired, and how many did."""
    elements, pairs = _pairs(ctx, name)
    on = and_(TIMER.c.instance_id == cases.c.id, TIMER.c.fired_at.is_not(None), TIMER.c.element_id.in_(elements),
              tuple_(cases.c.process_key, TIMER.c.element_id).in_(pairs))
    return (select(cases.c.id.label("instance_id"), func.min(TIMER.c.fired_at).label("at"),
                   func.count().label("times")).select_from(cases).join(TIMER, on).group_by(cases.c.id).subquery(name))


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
    opened = _narrow(select(day_of(PI.c.started_at), func.count())
                     .where(PI.c.started_at >= f.since, PI.c.started_at < f.until), ctx)
    closed = _narrow(select(day_of(PI.c.ended_at), func.count())
                     .where(PI.c.ended_at >= f.since, PI.c.ended_at < f.until, PI.c.status.in_(ENDED)), ctx)
    opened_by = by_week(conn.execute(opened.group_by(day_of(PI.c.started_at))))
    closed_by = by_week(conn.execute(closed.group_by(day_of(PI.c.ended_at))))
    return [(w, opened_by[w][0], closed_by[w][0]) for w in f.weeks()]


MEASURES = (("acknowledge", "acknowledged", True), ("resolve", "resolved", False))


def response_times(ctx: Context) -> list[tuple]:
    rows = []
    for measure, milestone, first in MEASURES:
        keys = ctx.milestones.keys(milestone)
        if not keys:
            continue
        cases = _opened(ctx, keys)
        reached = _reached(ctx, milestone, cases, first)
        severity, on = _fact("severity", reached.c.instance_id)
        durations = (select(func.coalesce(severity.c.value, NONE).label("severity"),
                            seconds_between(cases.c.started_at, reached.c.at).label("value"))
                     .select_from(reached).join(cases, cases.c.id == reached.c.instance_id)
                     .outerjoin(severity, on).cte(f"{measure}_durations"))
        found = spreads(ctx.conn, durations, ("severity",), total=ALL)
        overall = found.pop((ALL,), Spread(0, None, None))
        rows.append((measure, ALL, overall.count, hours(overall.median), hours(overall.p90)))
        for (value,), spread in sorted(found.items(), key=lambda item: _severity_key(item[0][0])):
            rows.append((measure, value, spread.count, hours(spread.median), hours(spread.p90)))
    return rows


def _breach_groups(ctx: Context) -> list[tuple]:
    """Cases and breached cases per (category, severity); computed once per dashboard."""
    if "breach_groups" not in ctx.shared:
        ctx.shared["breach_groups"] = _count_breaches(ctx)
    return ctx.shared["breach_groups"]


def _count_breaches(ctx: Context) -> list[tuple]:
    keys = ctx.milestones.keys("breached")
    if not keys:
        return []
    cases = _opened(ctx, keys)
    breached = _reached(ctx, "breached", cases)
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
    """Escalated cases and escalations per week, by the day the escalation happened."""
    f = ctx.filters
    if not ctx.milestones.of("escalated"):
        return [(w, 0, 0) for w in f.weeks()]
    stmt = (select(EV.c.instance_id, day_of(EV.c.at)).join(PI, PI.c.id == EV.c.instance_id)
            .where(EV.c.at >= f.since, EV.c.at < f.until, *_milestone_events(ctx, "escalated", PI.c.process_key)))
    cases: dict[str, set] = defaultdict(set)
    events: dict[str, int] = defaultdict(int)
    for instance_id, day in ctx.conn.execute(_narrow(stmt, ctx)):
        cases[monday_of(day)].add(instance_id)
        events[monday_of(day)] += 1
    return [(w, len(cases[w]), events[w]) for w in f.weeks()]


def reopens(ctx: Context) -> list[tuple]:
    keys = ctx.milestones.keys("resolved")
    if not keys:
        return []
    cases = _opened(ctx, keys)
    resolved = _reached(ctx, "resolved", cases)
    again = resolved.c.times > 1
    stmt = select(day_of(cases.c.started_at).label("day"), resolved.c.instance_id.label("resolved"))
    if ctx.milestones.of("reopened"):
        reopened = _reached(ctx, "reopened", cases)
        again = or_(again, reopened.c.instance_id.is_not(None))
        stmt = stmt.outerjoin(reopened, reopened.c.instance_id == cases.c.id)
    stmt = stmt.add_columns(case((and_(resolved.c.instance_id.is_not(None), again), 1), else_=0).label("again"))
    per_case = stmt.select_from(cases).outerjoin(resolved, resolved.c.instance_id == cases.c.id).subquery()
    daily = select(per_case.c.day, func.count(per_case.c.resolved), func.sum(per_case.c.again)).group_by(
        per_case.c.day)
    found = by_week(ctx.conn.execute(daily), columns=2)
    return [(w, found[w][0], found[w][1], _rate(found[w][1], found[w][0])) for w in ctx.filters.weeks()]


def _ratings(ctx: Context):
    """Survey answers given in the range; process and category filters apply to the case an answer is about."""
    f = ctx.filters
    rating, about = FACT.alias("rating"), FACT.alias("about")
    own, subject = PI.alias("own"), PI.alias("subject")
    stmt = (select(day_of(rating.c.set_at).label("day"), rating.c.number.label("rating")).select_from(rating)
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
    stmt = select(ratings.c.day, func.count(), func.sum(ratings.c.rating)).group_by(ratings.c.day)
    found = by_week(ctx.conn.execute(stmt), columns=2)
    return [(w, found[w][0], round(found[w][1] / found[w][0], 2) if found[w][0] else None)
            for w in ctx.filters.weeks()]


def satisfaction_distribution(ctx: Context) -> list[tuple]:
    ratings = _ratings(ctx)
    stmt = select(ratings.c.rating, func.count()).group_by(ratings.c.rating).order_by(ratings.c.rating)
    found = {float(value): count for value, count in ctx.conn.execute(stmt)}
    scores = sorted(set(found) | {1.0, 2.0, 3.0, 4.0, 5.0})
    return [(int(s) if s.is_integer() else s, found.get(s, 0)) for s in scores]


def _gate_waits(ctx: Context, cases):
    """Per case of `cases`: the hours its compliance sign-off tasks were open, summed over every round."""
    waited = func.sum(EV.c.detail["waited_ms"].as_float()) / 1000.0
    on = and_(EV.c.instance_id == cases.c.id, *_milestone_events(ctx, "compliance_gate", cases.c.process_key))
    return (select(cases.c.id.label("instance_id"), waited.label("value")).select_from(cases).join(EV, on)
            .group_by(cases.c.id).subquery("gate"))


def onboarding(ctx: Context) -> list[tuple]:
    rows = []
    if keys := ctx.milestones.keys("activated"):
        cases = _opened(ctx, keys)
        activated = _reached(ctx, "activated", cases)
        durations = (select(seconds_between(cases.c.started_at, activated.c.at).label("value"))
                     .select_from(activated).join(cases, cases.c.id == activated.c.instance_id).subquery())
        waiting = (select(func.count()).select_from(cases).join(PI, PI.c.id == cases.c.id)
                   .outerjoin(activated, activated.c.instance_id == cases.c.id)
                   .where(activated.c.instance_id.is_(None), PI.c.status == "running"))
        rows.append(_spread_row("start to activation", durations, waiting, ctx))
    if keys := ctx.milestones.keys("compliance_gate"):
        cases = _opened(ctx, keys)
        gate = _gate_waits(ctx, cases)
        durations = select(gate.c.value).subquery()
        waiting = (select(func.count()).select_from(TASK).join(cases, cases.c.id == TASK.c.instance_id)
                   .where(TASK.c.element_id.in_(ctx.milestones.elements("compliance_gate"))))
        rows.append(_spread_row("waiting at the compliance gate", durations, waiting, ctx))
    return rows


def _spread_row(measure: str, durations, waiting, ctx: Context) -> tuple:
    spread = spreads(ctx.conn, durations).get((), Spread(0, None, None))
    return measure, spread.count, ctx.conn.execute(waiting).scalar_one(), hours(spread.median), hours(spread.p90)


def wip(ctx: Context) -> list[tuple]:
    f = ctx.filters
    unclaimed = func.sum(case((TASK.c.claimed_by.is_(None), 1), else_=0))
    # A case with an open SLA clock is overdue when a running clock is past due (business time); paused is not
    # overdue. A case without one is judged by the task's own due time.
    late = or_(sla_store.instance_filter("overdue", ctx.now, TASK.c.instance_id),
               and_(~sla_store.open_clock(TASK.c.instance_id), TASK.c.due_at.is_not(None), TASK.c.due_at < ctx.now))
    overdue = func.sum(case((late, 1), else_=0))
    stmt = select(TASK.c.lane, func.count(), unclaimed, overdue, func.min(TASK.c.created_at)).group_by(TASK.c.lane)
    if f.process:  # open tasks carry their process: no join needed
        stmt = stmt.where(TASK.c.process_key == f.process)
    if f.category:
        stmt = stmt.where(TASK.c.instance_id.in_(select(FACT.c.instance_id).where(FACT.c.name == "category",
                                                                                FACT.c.value == f.category)))
    rows = ctx.conn.execute(stmt).all()
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
