"""Errors of the SLA layer: bad configuration documents and impossible clock transitions."""


class SlaConfigError(ValueError):
    """A calendar, policy or ladder document that cannot be used; the message names where."""

    def __init__(self, where: str, field: str, problem: str):
        self.where = where
        self.field = field
        self.problem = problem
        super().__init__(f"{where}: {field}: {problem}")


class CalendarError(SlaConfigError):
    """A business calendar that cannot be built (names the calendar and the field)."""

    def __init__(self, calendar: str, field: str, problem: str):
        self.calendar = calendar
        super().__init__(f"calendar {calendar!r}", field, problem)


class PolicyError(SlaConfigError):
    """An SLA policy rule that cannot be used (names the rule index and the field)."""

    def __init__(self, rule: int | None, field: str, problem: str, rule_name: str | None = None):
        self.rule = rule
        if rule is None:
            where = "policy"
        else:
            where = f"rule {rule}" + (f" ({rule_name})" if rule_name else "")
        super().__init__(where, field, problem)


class LadderError(SlaConfigError):
    """An escalation ladder that cannot be used (names the ladder and the field)."""

    def __init__(self, ladder: str, field: str, problem: str):
        self.ladder = ladder
        super().__init__(f"ladder {ladder!r}", field, problem)


class DurationError(ValueError):
    """A duration text that is not a usable ISO 8601 duration."""


class NaiveDatetimeError(ValueError):
    """A datetime without a time zone where an instant is needed."""


class ClockStateError(Exception):
    """A clock transition that its current state does not allow (e.g. resuming a running clock)."""
