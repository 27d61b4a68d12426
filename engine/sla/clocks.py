"""SLA clocks: an immutable state machine (running, paused, met, breached) that yields an event per transition."""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from .calendar import BusinessCalendar
from .durations import format_iso, parse_duration
from .errors import ClockStateError, NaiveDatetimeError
from .ladders import Ladder
from .targets import Target

RUNNING, PAUSED, MET, BREACHED = "running", "paused", "met", "breached"
EVENT_KINDS = ("applied", "paused", "resumed", "warned", "breached", "met", "recomputed")
_MINUTE = timedelta(minutes=1)


def used_minutes(amount: timedelta) -> int:
    """Whole minutes used or left (rounded down)."""
    return amount // _MINUTE


def over_minutes(amount: timedelta) -> int:
    """Minutes over target, rounded up: any lateness is at least one minute over."""
    return max(0, math.ceil(amount / _MINUTE))


@dataclass(frozen=True)
class ClockEvent:
    """What a transition did, as one row for the SLA event log (minutes are business minutes)."""

    kind: str
    target: str
    at: datetime
    state: str
    due: datetime | None
    used_minutes: int
    over_minutes: int = 0
    reason: str | None = None
    detail: Mapping = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain JSON form."""
        return {"kind": self.kind, "target": self.target, "at": self.at.isoformat(), "state": self.state,
                "due": _iso(self.due), "used_minutes": self.used_minutes, "over_minutes": self.over_minutes,
                "reason": self.reason, "detail": dict(self.detail)}


@dataclass(frozen=True)
class Pause:
    """One pause span and why (end is None while it lasts)."""

    start: datetime
    reason: str
    end: datetime | None = None


@dataclass(frozen=True)
class ClockStatus:
    """A clock seen at one instant: due time, time used and left or overdue."""

    state: str
    due: datetime | None
    used: timedelta
    remaining: timedelta
    overdue: timedelta
    breached: bool
    paused_reason: str | None

    @property
    def overdue_minutes(self) -> int:
        return over_minutes(self.overdue)


@dataclass(frozen=True)
class Clock:
    """One target's clock; `used` is the target time banked over the closed running spans in `spans`."""

    target: Target
    state: str
    started: datetime
    since: datetime | None
    used: timedelta = timedelta(0)
    spans: tuple[tuple[datetime, datetime], ...] = ()
    pauses: tuple[Pause, ...] = ()
    stopped_at: datetime | None = None
    breach_recorded: bool = False

    @property
    def due(self) -> datetime | None:
        """When the target is due; None while paused or stopped (a paused clock has no due time)."""
        if self.state != RUNNING:
            return None
        return self.instant_at(self.target.length)

    @property
    def last_change(self) -> datetime:
        """The latest instant the clock has seen; transitions cannot go back before it."""
        moments = [self.started, self.since, self.stopped_at] + [p.end or p.start for p in self.pauses[-1:]]
        return max(m for m in moments if m is not None)

    def instant_at(self, amount: timedelta) -> datetime | None:
        """When the clock's used time reaches `amount` (None while not running)."""
        if self.state != RUNNING:
            return None
        if amount >= self.used:
            return self.target.advance(self.since, amount - self.used)
        # The amount was reached in an earlier running span (after a retarget to a shorter target).
        done = timedelta(0)
        for start, end in self.spans:
            length = self.target.measure(start, end)
            if done + length >= amount:
                return self.target.advance(start, amount - done)
            done += length
        return self.started

    def used_at(self, at: datetime) -> timedelta:
        """Target time used up to `at`."""
        if self.state == RUNNING and at > self.since:
            return self.used + self.target.measure(self.since, at)
        return self.used

    def status(self, now: datetime) -> ClockStatus:
        """The clock at `now`: remaining or overdue target time, breached or not."""
        _aware(now)
        used = self.used_at(now)
        length = self.target.length
        return ClockStatus(state=self.state, due=self.due, used=used, remaining=max(length - used, timedelta(0)),
                           overdue=max(used - length, timedelta(0)), breached=used > length,
                           paused_reason=self.pauses[-1].reason if self.state == PAUSED else None)

    def pause(self, at: datetime, reason: str) -> tuple["Clock", ClockEvent]:
        """Stop counting (e.g. waiting on the client); the due time is recomputed on resume."""
        self._expect(at, RUNNING, "pause")
        clock = replace(self._banked(at), state=PAUSED, since=None, pauses=self.pauses + (Pause(at, reason),))
        return clock, clock._event("paused", at, reason=reason)

    def resume(self, at: datetime) -> tuple["Clock", ClockEvent]:
        """Count again; the due time moves by exactly the target time spent paused."""
        self._expect(at, PAUSED, "resume")
        pause = self.pauses[-1]
        clock = replace(self, state=RUNNING, since=at, pauses=self.pauses[:-1] + (replace(pause, end=at),))
        detail = {"paused_minutes": used_minutes(self.target.measure(pause.start, at)),
                  "paused_since": pause.start.isoformat()}
        return clock, clock._event("resumed", at, reason=pause.reason, detail=detail)

    def stop(self, at: datetime) -> tuple["Clock", ClockEvent]:
        """The target is fulfilled: met when within its length, else breached with minutes over."""
        self._expect(at, (RUNNING, PAUSED), "stop")
        clock = self._banked(at) if self.state == RUNNING else self._close_pause(at)
        state = MET if clock.used <= self.target.length else BREACHED
        clock = replace(clock, state=state, since=None, stopped_at=at)
        return clock, clock._event(state, at, detail={"final": True})

    def reopen(self, at: datetime) -> tuple["Clock", ClockEvent]:
        """Run a stopped clock again with the time already used (a reopened case)."""
        self._expect(at, (MET, BREACHED), "reopen")
        clock = replace(self, state=RUNNING, since=at, stopped_at=None,
                        breach_recorded=self.used > self.target.length)
        return clock, clock._event("resumed", at, reason="reopened")

    def retarget(self, target: Target, at: datetime) -> tuple["Clock", ClockEvent]:
        """Change the target (priority, category or policy changed), keeping the time already used."""
        self._expect(at, (RUNNING, PAUSED), "retarget")
        before = self.due
        clock = self._banked(at) if self.state == RUNNING else self
        clock = replace(clock, target=target)
        clock = replace(clock, breach_recorded=self.breach_recorded and clock.used > target.length)
        return clock, clock._event("recomputed", at, detail={
            "previous_due": _iso(before), "previous_duration": str(self.target.duration),
            "previous_calendar": self.target.calendar.name, "duration": str(target.duration),
            "calendar": target.calendar.name, "rule": target.rule})

    def tick(self, at: datetime) -> tuple["Clock", ClockEvent | None]:
        """Record the breach once when a running clock has passed its due time."""
        _aware(at)
        if self.state != RUNNING or self.breach_recorded or self.used_at(at) <= self.target.length:
            return self, None
        clock = replace(self, breach_recorded=True)
        event = clock._event("breached", at, detail={"final": False})
        return clock, replace(event, at=clock.due)

    def to_dict(self) -> dict:
        """Plain JSON form; `Clock.from_dict` rebuilds it given the calendars (and ladders) by name."""
        return {"target": self.target.describe(), "state": self.state, "started": self.started.isoformat(),
                "since": _iso(self.since), "used": format_iso(0, self.used),
                "spans": [[s.isoformat(), e.isoformat()] for s, e in self.spans],
                "pauses": [{"start": p.start.isoformat(), "end": _iso(p.end), "reason": p.reason} for p in self.pauses],
                "stopped_at": _iso(self.stopped_at), "breach_recorded": self.breach_recorded}

    @classmethod
    def from_dict(cls, data: Mapping, calendars: Mapping[str, BusinessCalendar],
                  ladders: Mapping[str, Ladder] | None = None) -> "Clock":
        """Rebuild a clock stored with `to_dict`."""
        spec = data["target"]
        if spec["calendar"] not in calendars:
            raise KeyError(f"clock for {spec['name']!r} uses calendar {spec['calendar']!r}, which is not loaded")
        ladder = (ladders or {}).get(spec["ladder"]) if spec.get("ladder") else None
        target = Target(name=spec["name"], duration=parse_duration(spec["duration"]),
                        calendar=calendars[spec["calendar"]], ladder=ladder, rule=spec.get("rule", ""))
        return cls(target=target, state=data["state"], started=_parse(data["started"]), since=_parse(data["since"]),
                   used=parse_duration(data["used"]).time,
                   spans=tuple((_parse(s), _parse(e)) for s, e in data["spans"]),
                   pauses=tuple(Pause(_parse(p["start"]), p["reason"], _parse(p["end"])) for p in data["pauses"]),
                   stopped_at=_parse(data["stopped_at"]), breach_recorded=bool(data["breach_recorded"]))

    def _banked(self, at: datetime) -> "Clock":
        return replace(self, used=self.used_at(at), spans=self.spans + ((self.since, at),), since=at)

    def _close_pause(self, at: datetime) -> "Clock":
        return replace(self, pauses=self.pauses[:-1] + (replace(self.pauses[-1], end=at),))

    def _expect(self, at: datetime, states, action: str) -> None:
        _aware(at)
        allowed = (states,) if isinstance(states, str) else states
        if self.state not in allowed:
            raise ClockStateError(f"cannot {action} the {self.target.name} clock: it is {self.state}")
        if at < self.last_change:
            raise ClockStateError(f"cannot {action} the {self.target.name} clock at {at.isoformat()}: "
                                  f"it last changed at {self.last_change.isoformat()}")

    def _event(self, kind: str, at: datetime, reason: str | None = None, detail: Mapping | None = None) -> ClockEvent:
        used = self.used_at(at)
        return ClockEvent(kind=kind, target=self.target.name, at=at, state=self.state, due=self.due,
                          used_minutes=used_minutes(used), over_minutes=over_minutes(used - self.target.length),
                          reason=reason, detail=detail or {})


def start(target: Target, at: datetime) -> tuple[Clock, ClockEvent]:
    """Apply a target to a case at `at`: a running clock and its `applied` event."""
    _aware(at)
    clock = Clock(target=target, state=RUNNING, started=at, since=at)
    return clock, clock._event("applied", at, detail={"duration": str(target.duration),
                                                      "calendar": target.calendar.name, "rule": target.rule})


def _aware(t: datetime) -> None:
    if not isinstance(t, datetime):
        raise TypeError(f"expected a datetime, got {type(t).__name__}")
    if t.tzinfo is None or t.utcoffset() is None:
        raise NaiveDatetimeError(f"{t.isoformat()} has no time zone; SLA times must be aware datetimes")


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
