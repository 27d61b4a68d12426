"""Timer expressions checked where they are static: ISO 8601 durations, dates and cycles, quoted or bare.

A timer expression is a Python expression (usually a quoted ISO 8601 string, or a name from the process data).
Camunda and most modelling tools write the value bare, `<timeDuration>PT1H</timeDuration>`; such a bare ISO
8601 literal is taken as that text (`literal_value`), so models from those tools run unchanged.
"""

from __future__ import annotations

import ast
import re

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)

DURATION = re.compile(r"^P(?=\d|T\d)(\d+([.,]\d+)?Y)?(\d+([.,]\d+)?M)?(\d+([.,]\d+)?W)?(\d+([.,]\d+)?D)?"
                      r"(T(?=\d)(\d+([.,]\d+)?H)?(\d+([.,]\d+)?M)?(\d+([.,]\d+)?S)?)?$", re.IGNORECASE)
# Bare text that can only be meant as an ISO 8601 value (a Python expression never looks like this, except a
# name such as PT1H, which no process sets).
_BARE_ISO = re.compile(r"^(R\d*/\S+|P[\dT][\dYMWDTHS.,]*|\d{4}-\d{2}-\d{2}(T[\d:.]+)?(Z|[+-]\d{2}:?\d{2})?)$",
                       re.IGNORECASE)
KINDS = {DurationTimerEventDefinition: "timeDuration", TimeDateEventDefinition: "timeDate",
         CycleTimerEventDefinition: "timeCycle"}


def literal_value(expression: str) -> str | None:
    """The ISO 8601 text of a bare (unquoted) timer value, or None if `expression` is not one."""
    text = (expression or "").strip()
    return text if _BARE_ISO.match(text) else None


def kind_of(definition) -> str | None:
    """`timeDuration`, `timeDate` or `timeCycle` for a SpiffWorkflow timer definition."""
    for cls, kind in KINDS.items():
        if isinstance(definition, cls):
            return kind
    return None


def expression_problem(kind: str, expression: str) -> str | None:
    """Why a static timer expression is wrong, or None (also None when it is computed from process data)."""
    bare = literal_value(expression)
    if bare is not None:
        value = bare
    else:
        try:
            value = ast.literal_eval(expression)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None  # computed from process data when the timer starts; checked then
        if not isinstance(value, str):
            return f"timer expression {expression} is not a text value"
    checks = {"timeDuration": _check_duration, "timeDate": _check_date, "timeCycle": _check_cycle}
    return checks[kind](value)


def _check_duration(value: str) -> str | None:
    if not DURATION.match(value):
        return f"{value!r} is not an ISO 8601 duration (examples: PT1H, P2D, P1DT12H)"
    return None


def _check_date(value: str) -> str | None:
    try:
        TimerEventDefinition.get_datetime(value)
    except ValueError:
        return f"{value!r} is not an ISO 8601 date-time (example: 2030-01-31T09:00:00+00:00)"
    return None


def _check_cycle(value: str) -> str | None:
    parts = value.split("/")
    if not (2 <= len(parts) <= 3 and re.fullmatch(r"R\d*", parts[0], re.IGNORECASE)):
        return f"{value!r} is not an ISO 8601 repeating interval (example: R3/PT1H)"
    durations = [p for p in parts[1:] if p.upper().startswith("P")]
    if not durations or any(_check_duration(d) for d in durations):
        return f"{value!r} is not an ISO 8601 repeating interval (example: R3/PT1H)"
    for date in (p for p in parts[1:] if not p.upper().startswith("P")):
        if _check_date(date):
            return f"{value!r} has an invalid start or end date {date!r}"
    return None
