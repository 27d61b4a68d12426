"""SLA clocks: start, pause on "waiting on client", resume, stop, reopen, retarget, breach, and JSON round trips."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.sla import (
    BREACHED,
    MET,
    PAUSED,
    RUNNING,
    Clock,
    ClockStateError,
    NaiveDatetimeError,
    Target,
    elapsed,
    load_ladders,
    parse_duration,
    shipped_calendars,
    start,
)

SAST = ZoneInfo("Africa/Johannesburg")
HOURS = timedelta(hours=1)
CALENDARS = shipped_calendars()
LADDERS = load_ladders({"standard": {"levels": ["assignee", {"role": "team_lead", "within": "PT4H"}]}})


def sast(*args):
    return datetime(*args, tzinfo=SAST)


def target(duration, name="resolve", calendar="za-office", ladder=None):
    return Target(name=name, duration=parse_duration(duration), calendar=CALENDARS[calendar],
                  ladder=LADDERS[ladder] if ladder else None, rule="test")


def round_trip(clock):
    again = Clock.from_dict(json.loads(json.dumps(clock.to_dict())), CALENDARS, LADDERS)
    assert again == clock
    return again


def test_start_applies_the_target():
    clock, event = start(target("PT8H", "first_response"), sast(2026, 12, 11, 15))
    assert clock.state == RUNNING and clock.due == sast(2026, 12, 14, 14)
    assert (event.kind, event.target, event.at, event.due, event.used_minutes) == (
        "applied", "first_response", sast(2026, 12, 11, 15), sast(2026, 12, 14, 14), 0)
    assert event.detail == {"duration": "PT8H", "calendar": "za-office", "rule": "test"}
    round_trip(clock)


def test_pause_two_days_waiting_on_client_moves_due_by_exactly_the_paused_business_time():
    clock, _ = start(target("P3D"), sast(2026, 12, 7, 9))
    first_due = clock.due
    assert first_due == sast(2026, 12, 10, 9)
    clock, paused = clock.pause(sast(2026, 12, 7, 10), "waiting on client")
    assert clock.state == PAUSED and clock.due is None
    assert (paused.kind, paused.reason, paused.used_minutes) == ("paused", "waiting on client", 60)
    round_trip(clock)
    # A paused clock truly stops: days later nothing more is used and nothing is overdue.
    for later in (sast(2026, 12, 8, 16), sast(2026, 12, 30, 12)):
        status = clock.status(later)
        assert (status.used, status.remaining, status.breached) == (HOURS, 26 * HOURS, False)
        assert status.paused_reason == "waiting on client"
    clock, resumed = clock.resume(sast(2026, 12, 9, 10))
    assert clock.due == sast(2026, 12, 14, 9)
    assert elapsed(CALENDARS["za-office"], first_due, clock.due) == 18 * HOURS
    assert resumed.detail["paused_minutes"] == 18 * 60 and resumed.due == clock.due
    assert clock.pauses[0].start == sast(2026, 12, 7, 10) and clock.pauses[0].end == sast(2026, 12, 9, 10)
    round_trip(clock)


def test_reopen_keeps_the_time_already_used():
    clock, _ = start(target("P1D"), sast(2026, 12, 7, 9))
    clock, met = clock.stop(sast(2026, 12, 7, 15))
    assert clock.state == MET and (met.kind, met.used_minutes, met.over_minutes) == ("met", 360, 0)
    clock, reopened = clock.reopen(sast(2026, 12, 9, 10))
    assert (reopened.kind, reopened.reason) == ("resumed", "reopened")
    assert clock.due == sast(2026, 12, 9, 13)
    clock, stopped = clock.stop(sast(2026, 12, 9, 14))
    assert clock.state == BREACHED and (stopped.kind, stopped.used_minutes, stopped.over_minutes) == (
        "breached", 600, 60)
    round_trip(clock)


def test_priority_change_mid_case_keeps_elapsed_time():
    clock, _ = start(target("P5D"), sast(2026, 12, 14, 9))
    assert clock.due == sast(2026, 12, 22, 9)  # the 5th working day after the 14th, skipping the 16th
    clock, event = clock.retarget(target("P2D"), sast(2026, 12, 15, 9))
    assert clock.due == sast(2026, 12, 17, 9)
    assert event.kind == "recomputed" and event.used_minutes == 9 * 60
    assert event.detail["previous_due"] == sast(2026, 12, 22, 9).isoformat()
    assert (event.detail["previous_duration"], event.detail["duration"]) == ("P5D", "P2D")
    round_trip(clock)


def test_retarget_to_a_shorter_target_already_used_up_is_overdue_from_the_right_moment():
    clock, _ = start(target("P5D"), sast(2026, 12, 7, 9))
    clock, _ = clock.pause(sast(2026, 12, 7, 12), "waiting on client")
    clock, _ = clock.resume(sast(2026, 12, 8, 9))
    clock, event = clock.retarget(target("PT4H"), sast(2026, 12, 8, 11))
    # 3 h before the pause and 2 h after it: the 4 h were used up an hour after the resume.
    assert clock.due == sast(2026, 12, 8, 10)
    assert event.over_minutes == 60 and clock.status(sast(2026, 12, 8, 11)).overdue == HOURS
    clock, _ = clock.retarget(target("PT2H"), sast(2026, 12, 8, 11))
    assert clock.due == sast(2026, 12, 7, 11)
    round_trip(clock)


def test_retarget_while_paused_keeps_the_pause():
    clock, _ = start(target("P2D"), sast(2026, 12, 7, 9))
    clock, _ = clock.pause(sast(2026, 12, 7, 13), "waiting on parts")
    clock, _ = clock.retarget(target("P1D"), sast(2026, 12, 8, 9))
    assert clock.state == PAUSED and clock.status(sast(2026, 12, 9, 9)).remaining == 5 * HOURS
    clock, _ = clock.resume(sast(2026, 12, 9, 9))
    assert clock.due == sast(2026, 12, 9, 14)


def test_breach_minutes_in_business_time():
    clock, _ = start(target("PT8H", "first_response"), sast(2026, 12, 11, 15))
    status = clock.status(sast(2026, 12, 14, 14, 37, 30))
    assert status.breached and status.overdue == timedelta(minutes=37, seconds=30) and status.overdue_minutes == 38
    # Overnight does not count: at 08:30 the next day it is 3 h 30 min over (17:00 - 14:00 + 30 min).
    assert clock.status(sast(2026, 12, 15, 8, 30)).overdue == timedelta(hours=3, minutes=30)
    clock, event = clock.stop(sast(2026, 12, 14, 14, 37, 30))
    assert clock.state == BREACHED and event.over_minutes == 38 and event.detail == {"final": True}


def test_stopping_exactly_at_due_is_met():
    clock, _ = start(target("PT8H"), sast(2026, 12, 11, 15))
    assert not clock.status(clock.due).breached
    clock, event = clock.stop(clock.due)
    assert clock.state == MET and event.kind == "met"


def test_stopping_a_paused_clock_closes_the_pause():
    clock, _ = start(target("PT8H"), sast(2026, 12, 11, 15))
    clock, _ = clock.pause(sast(2026, 12, 11, 16), "waiting on client")
    clock, event = clock.stop(sast(2026, 12, 18, 16))
    assert clock.state == MET and event.used_minutes == 60 and clock.pauses[-1].end == sast(2026, 12, 18, 16)


def test_tick_records_the_breach_once_at_the_due_time():
    clock, _ = start(target("PT8H"), sast(2026, 12, 11, 15))
    assert clock.tick(sast(2026, 12, 14, 14)) == (clock, None)
    clock, event = clock.tick(sast(2026, 12, 14, 15))
    assert (event.kind, event.at, event.over_minutes, event.detail) == (
        "breached", sast(2026, 12, 14, 14), 60, {"final": False})
    assert clock.tick(sast(2026, 12, 14, 16)) == (clock, None)
    # A longer target clears the flag, so a later breach is recorded again.
    clock, _ = clock.retarget(target("P1D"), sast(2026, 12, 14, 16))
    assert clock.breach_recorded  # 10 h used of 9 h: still breached, not recorded twice
    clock, _ = clock.retarget(target("P2D"), sast(2026, 12, 14, 16))
    assert not clock.breach_recorded and clock.tick(sast(2026, 12, 15, 15))[1] is None
    assert clock.tick(sast(2026, 12, 15, 16))[1].at == sast(2026, 12, 15, 15)


def test_a_calendar_time_target_counts_nights_and_weekends():
    clock, _ = start(target("calendar:PT24H", "acknowledge"), sast(2026, 12, 11, 15))
    assert clock.due == sast(2026, 12, 12, 15)
    clock, _ = clock.pause(sast(2026, 12, 11, 21), "waiting on client")
    clock, event = clock.resume(sast(2026, 12, 12, 3))
    assert clock.due == sast(2026, 12, 12, 21) and event.detail["paused_minutes"] == 360


@pytest.mark.parametrize(("steps", "message"), [
    (["resume"], "cannot resume the resolve clock: it is running"),
    (["pause", "pause"], "cannot pause the resolve clock: it is paused"),
    (["stop", "stop"], "cannot stop the resolve clock: it is met"),
    (["reopen"], "cannot reopen the resolve clock: it is running"),
    (["stop", "retarget"], "cannot retarget the resolve clock: it is met"),
    (["stop", "pause"], "cannot pause the resolve clock: it is met"),
])
def test_transitions_a_state_does_not_allow(steps, message):
    clock, _ = start(target("P1D"), sast(2026, 12, 7, 9))
    at = sast(2026, 12, 7, 10)
    actions = {"pause": lambda c: c.pause(at, "waiting"), "resume": lambda c: c.resume(at),
               "stop": lambda c: c.stop(at), "reopen": lambda c: c.reopen(at),
               "retarget": lambda c: c.retarget(target("P2D"), at)}
    with pytest.raises(ClockStateError, match=message):
        for step in steps:
            clock, _ = actions[step](clock)


def test_time_cannot_run_backwards():
    clock, _ = start(target("P1D"), sast(2026, 12, 7, 9))
    clock, _ = clock.pause(sast(2026, 12, 7, 12), "waiting")
    with pytest.raises(ClockStateError, match="last changed at 2026-12-07T12:00"):
        clock.resume(sast(2026, 12, 7, 11))


def test_naive_instants_are_refused():
    with pytest.raises(NaiveDatetimeError):
        start(target("P1D"), datetime(2026, 12, 7, 9))
    clock, _ = start(target("P1D"), sast(2026, 12, 7, 9))
    with pytest.raises(NaiveDatetimeError):
        clock.pause(datetime(2026, 12, 7, 10), "waiting")
    with pytest.raises(NaiveDatetimeError):
        clock.status(datetime(2026, 12, 7, 10))


def test_events_are_plain_json_rows():
    clock, applied = start(target("P1D", ladder="standard"), sast(2026, 12, 7, 9))
    clock, paused = clock.pause(sast(2026, 12, 7, 10), "waiting on client")
    rows = [json.loads(json.dumps(e.to_dict())) for e in (applied, paused)]
    assert rows[1] == {"kind": "paused", "target": "resolve", "at": "2026-12-07T10:00:00+02:00", "state": "paused",
                       "due": None, "used_minutes": 60, "over_minutes": 0, "reason": "waiting on client",
                       "detail": {}}
    assert round_trip(clock).target.ladder.name == "standard"


def test_a_stored_clock_needs_its_calendar():
    clock, _ = start(target("P1D"), sast(2026, 12, 7, 9))
    with pytest.raises(KeyError, match="za-office"):
        Clock.from_dict(clock.to_dict(), {"24x7": CALENDARS["24x7"]})
