"""Escalation: the schedule a ladder gives a clock, when a notification may go out, and digests of bursts."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .calendar import BusinessCalendar, is_open, next_open
from .clocks import RUNNING, Clock, ClockEvent, over_minutes, used_minutes
from .ladders import Ladder

WARNING, BREACH, ESCALATION, REFERRAL = "warning", "breach", "escalation", "referral"


@dataclass(frozen=True)
class EscalationPoint:
    """Who is told what when: a warning to the first level, the breach, or a hand-over to a higher level."""

    when: datetime
    level: str
    kind: str
    target: str
    deadline: datetime | None
    key: str


def schedule(clock: Clock, ladder: Ladder | None = None) -> list[EscalationPoint]:
    """Every point of the ladder for a running clock, past ones included (dedupe by `key`); none otherwise."""
    ladder = ladder or clock.target.ladder
    if ladder is None or clock.state != RUNNING:
        # A paused clock has no due time, and a stopped one needs no more escalation.
        return []
    target, length, due = clock.target, clock.target.length, clock.due
    first = ladder.levels[0].role
    points = []
    for warning in ladder.warnings:
        if warning.percent is not None:
            amount = length * warning.percent / 100
        else:
            amount = max(length - warning.before.length(target.calendar), timedelta(0))
        points.append(EscalationPoint(when=clock.instant_at(amount), level=first, kind=WARNING, target=target.name,
                                      deadline=due, key=f"{target.name}:warn:{warning.label}"))
    if len(ladder.levels) == 1:
        points.append(EscalationPoint(when=due, level=first, kind=BREACH, target=target.name, deadline=None,
                                      key=f"{target.name}:breach"))
    when, kind = due, BREACH
    for level in ladder.levels[1:]:
        deadline = target.advance(when, level.within.length(target.calendar))
        key = f"{target.name}:breach" if kind == BREACH else f"{target.name}:level:{level.role}"
        points.append(EscalationPoint(when=when, level=level.role, kind=kind, target=target.name, deadline=deadline,
                                      key=key))
        # The next level takes over when this one's own deadline lapses.
        when, kind = deadline, ESCALATION
    return sorted(points, key=lambda p: p.when)


def refer_upward(clock: Clock, current_level: str, at: datetime, ladder: Ladder | None = None) -> EscalationPoint:
    """A manual "escalate now": the level above `current_level`, with that level's own deadline from `at`."""
    ladder = ladder or clock.target.ladder
    if ladder is None:
        raise ValueError(f"the {clock.target.name} target has no escalation ladder")
    roles = [level.role for level in ladder.levels]
    if current_level not in roles:
        raise ValueError(f"{current_level!r} is not a level of ladder {ladder.name!r}: {', '.join(roles)}")
    position = roles.index(current_level) + 1
    if position == len(roles):
        raise ValueError(f"{current_level!r} is the top of ladder {ladder.name!r}")
    level = ladder.levels[position]
    deadline = clock.target.advance(at, level.within.length(clock.target.calendar))
    return EscalationPoint(when=at, level=level.role, kind=REFERRAL, target=clock.target.name, deadline=deadline,
                           key=f"{clock.target.name}:referral:{level.role}:{at.isoformat()}")


def record(clock: Clock, point: EscalationPoint) -> ClockEvent:
    """The `warned` event row for a point that was acted on (warning, breach hand-over or escalation)."""
    used = clock.used_at(point.when)
    return ClockEvent(kind="warned", target=clock.target.name, at=point.when, state=clock.state, due=clock.due,
                      used_minutes=used_minutes(used), over_minutes=over_minutes(used - clock.target.length),
                      reason=point.kind, detail={"level": point.level, "key": point.key,
                                                 "deadline": point.deadline.isoformat() if point.deadline else None})


def delivery_time(calendar: BusinessCalendar, t: datetime, urgent: bool) -> datetime:
    """When a notification due at `t` goes out: at once if urgent or the calendar is open, else at next opening."""
    if urgent or is_open(calendar, t):
        return t
    return next_open(calendar, t)


@dataclass(frozen=True)
class Notification:
    """One message to one recipient about one case."""

    recipient: str
    when: datetime
    subject: str
    case: str | None = None
    urgent: bool = False


@dataclass(frozen=True)
class Digest:
    """Notifications for one recipient sent together at `send_at`."""

    recipient: str
    send_at: datetime
    items: tuple[Notification, ...]


def digest(notifications: Iterable[Notification], window: timedelta) -> list[Digest]:
    """Group each recipient's bursts: a window opens at a notification and its digest goes out when it closes.

    Urgent notifications are never held back: each goes out alone at its own time.
    """
    if window <= timedelta(0):
        raise ValueError("a digest window must be longer than zero")
    result = []
    pending: dict[str, list[Notification]] = {}
    for item in sorted(notifications, key=lambda n: (n.when, n.recipient)):
        if item.urgent:
            result.append(Digest(item.recipient, item.when, (item,)))
            continue
        burst = pending.get(item.recipient)
        if burst and item.when < burst[0].when + window:
            burst.append(item)
            continue
        if burst:
            result.append(Digest(item.recipient, burst[0].when + window, tuple(burst)))
        pending[item.recipient] = [item]
    result.extend(Digest(recipient, burst[0].when + window, tuple(burst)) for recipient, burst in pending.items())
    return sorted(result, key=lambda d: (d.send_at, d.recipient))
