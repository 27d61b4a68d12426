"""Escalation ladders as data: when to warn before a target's due time, and who is escalated to after it."""

from collections.abc import Mapping
from dataclasses import dataclass

from .durations import Duration, parse_duration
from .errors import DurationError, LadderError

DEFAULT_LEVELS = ("assignee", "team_lead", "manager", "executive")


@dataclass(frozen=True)
class Warning:
    """A warning to the first level: at a share of the target used, or some target time before due."""

    percent: float | None = None
    before: Duration | None = None

    @property
    def label(self) -> str:
        return f"{self.percent:g}%" if self.percent is not None else f"{self.before} before"


@dataclass(frozen=True)
class Level:
    """A rung of the ladder; every rung above the first has its own time to act (`within`)."""

    role: str
    within: Duration | None = None


@dataclass(frozen=True)
class Ladder:
    """Warnings before due, then at breach the second level, and each later level when the one before lapses."""

    name: str
    warnings: tuple[Warning, ...]
    levels: tuple[Level, ...]


def load_ladders(document: Mapping) -> dict[str, Ladder]:
    """Build ladders from a `{name: ladder document}` mapping; LadderError names the ladder and field."""
    if not isinstance(document, Mapping):
        raise LadderError("?", "(document)", "ladders must be a JSON object of name -> ladder")
    return {name: load_ladder(name, body) for name, body in document.items()}


def load_ladder(name: str, body: Mapping) -> Ladder:
    """Build one ladder: `{"warn": [{"percent": 75}, {"before": "PT1H"}], "levels": [...]}`."""
    if not isinstance(body, Mapping):
        raise LadderError(name, "(document)", "must be a JSON object")
    unknown = sorted(set(body) - {"warn", "levels", "description"})
    if unknown:
        raise LadderError(name, unknown[0], "unknown field; expected warn, levels, description")
    warn = body.get("warn", [])
    if not isinstance(warn, list):
        raise LadderError(name, "warn", "must be a list such as [{\"percent\": 75}, {\"before\": \"PT1H\"}]")
    warnings = tuple(_warning(name, f"warn[{i}]", item) for i, item in enumerate(warn))
    raw_levels = body.get("levels")
    if raw_levels is None:
        raise LadderError(name, "levels", "missing: a list such as [{\"role\": \"assignee\"}, ...]")
    if not isinstance(raw_levels, list) or not raw_levels:
        raise LadderError(name, "levels", "must be a non-empty list of levels")
    levels = tuple(_level(name, i, item) for i, item in enumerate(raw_levels))
    roles = [level.role for level in levels]
    for i, role in enumerate(roles):
        if role in roles[:i]:
            raise LadderError(name, f"levels[{i}].role", f"{role!r} appears twice")
    return Ladder(name=name, warnings=warnings, levels=levels)


def _warning(name: str, where: str, item) -> Warning:
    if not isinstance(item, Mapping) or len(set(item) & {"percent", "before"}) != 1 or set(item) - {
            "percent", "before"}:
        raise LadderError(name, where, "give exactly one of {\"percent\": 75} or {\"before\": \"PT1H\"}")
    if "percent" in item:
        percent = item["percent"]
        if isinstance(percent, bool) or not isinstance(percent, int | float) or not 0 < percent < 100:
            raise LadderError(name, f"{where}.percent", f"{percent!r} is not a number between 0 and 100")
        return Warning(percent=float(percent))
    before = _duration(name, f"{where}.before", item["before"])
    if not before.business:
        # The warning is counted in the target's own time, so a separate clock kind would be misleading.
        raise LadderError(name, f"{where}.before", "is counted in the target's own time; drop 'calendar:'")
    if not before.days and not before.time:
        raise LadderError(name, f"{where}.before", "must be longer than zero")
    return Warning(before=before)


def _level(name: str, index: int, item) -> Level:
    where = f"levels[{index}]"
    if isinstance(item, str):
        item = {"role": item}
    if not isinstance(item, Mapping):
        raise LadderError(name, where, "must be {\"role\": ..., \"within\": ...}")
    unknown = sorted(set(item) - {"role", "within"})
    if unknown:
        raise LadderError(name, f"{where}.{unknown[0]}", "unknown field; expected role, within")
    role = item.get("role")
    if not isinstance(role, str) or not role.strip():
        raise LadderError(name, f"{where}.role", "missing: who is escalated to (assignee, team_lead, ...)")
    within = item.get("within")
    if index == 0:
        if within is not None:
            raise LadderError(name, f"{where}.within", "the first level's deadline is the target itself")
        return Level(role=role.strip())
    if within is None:
        # The issue that started this: an escalated manager task without a deadline stayed open for a year.
        raise LadderError(name, f"{where}.within", "missing: every escalated level needs its own deadline")
    duration = _duration(name, f"{where}.within", within)
    if not duration.days and not duration.time:
        raise LadderError(name, f"{where}.within", "must be longer than zero")
    return Level(role=role.strip(), within=duration)


def _duration(name: str, where: str, text) -> Duration:
    try:
        return parse_duration(text)
    except DurationError as error:
        raise LadderError(name, where, str(error)) from None
