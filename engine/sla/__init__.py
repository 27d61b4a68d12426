"""SLA layer: business calendars, target policies, clocks and escalation, as pure functions over plain data.

It imports nothing from the rest of `engine` (nor Flask, Redis, RQ or SpiffWorkflow): callers pass in the
calendars, policies and instants, and store the clocks and events it returns.
"""

from .calendar import BusinessCalendar, always_open, due, elapsed, is_open, next_open, open_intervals
from .catalogue import load_calendar, load_calendars, shipped_calendars
from .clocks import BREACHED, MET, PAUSED, RUNNING, Clock, ClockEvent, ClockStatus, Pause, start
from .durations import Duration, business_days, business_hours, parse_duration
from .errors import (
    CalendarError,
    ClockStateError,
    DurationError,
    LadderError,
    NaiveDatetimeError,
    PolicyError,
    SlaConfigError,
)
from .escalation import Digest, EscalationPoint, Notification, delivery_time, digest, record, refer_upward, schedule
from .ladders import Ladder, Level, Warning, load_ladder, load_ladders
from .policies import Policy, Rule, client_targets, load_policy, targets_for
from .targets import TARGET_NAMES, Target

__all__ = [
    "BREACHED", "MET", "PAUSED", "RUNNING", "TARGET_NAMES",
    "BusinessCalendar", "CalendarError", "Clock", "ClockEvent", "ClockStateError", "ClockStatus", "Digest",
    "Duration", "DurationError", "EscalationPoint", "Ladder", "LadderError", "Level", "NaiveDatetimeError",
    "Notification", "Pause", "Policy", "PolicyError", "Rule", "SlaConfigError", "Target", "Warning",
    "always_open", "business_days", "business_hours", "client_targets", "delivery_time", "digest", "due", "elapsed",
    "is_open", "load_calendar", "load_calendars", "load_ladder", "load_ladders", "load_policy", "next_open",
    "open_intervals", "parse_duration", "record", "refer_upward", "schedule", "shipped_calendars", "start",
    "targets_for",
]
