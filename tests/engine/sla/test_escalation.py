"""Escalation ladders: the schedule of warnings and levels, delivery in business hours, digests, validation."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.sla import (
    LadderError,
    Notification,
    PolicyError,
    Target,
    delivery_time,
    digest,
    load_ladder,
    parse_duration,
    record,
    refer_upward,
    schedule,
    shipped_calendars,
    start,
)
from engine.sla.casefile import STAFF_MAIL, load_case_sla
from engine.sla.mailing import send_at

SAST = ZoneInfo("Africa/Johannesburg")
CALENDARS = shipped_calendars()
LADDER = {
    "warn": [{"percent": 75}, {"before": "PT1H"}],
    "levels": [{"role": "assignee"}, {"role": "team_lead", "within": "PT4H"}, {"role": "manager", "within": "PT8H"},
               {"role": "executive", "within": "P1D"}],
}


def sast(*args):
    return datetime(*args, tzinfo=SAST)


def clock_for(duration="P1D", at=None, ladder=LADDER, calendar="za-office"):
    target = Target(name="resolve", duration=parse_duration(duration), calendar=CALENDARS[calendar],
                    ladder=load_ladder("standard", ladder))
    return start(target, at or sast(2026, 12, 7, 8))[0]


def rows(points):
    return [(p.when, p.level, p.kind, p.deadline) for p in points]


def test_the_full_ladder_with_each_levels_deadline():
    clock = clock_for()
    assert clock.due == sast(2026, 12, 7, 17)
    assert rows(schedule(clock)) == [
        (sast(2026, 12, 7, 14, 45), "assignee", "warning", sast(2026, 12, 7, 17)),
        (sast(2026, 12, 7, 16), "assignee", "warning", sast(2026, 12, 7, 17)),
        (sast(2026, 12, 7, 17), "team_lead", "breach", sast(2026, 12, 8, 12)),
        (sast(2026, 12, 8, 12), "manager", "escalation", sast(2026, 12, 9, 11)),
        (sast(2026, 12, 9, 11), "executive", "escalation", sast(2026, 12, 10, 11)),
    ]
    keys = [p.key for p in schedule(clock)]
    assert keys == ["resolve:warn:75%", "resolve:warn:PT1H before", "resolve:breach", "resolve:level:manager",
                    "resolve:level:executive"]


def test_level_deadlines_skip_holidays():
    # Breach on Tuesday 15 December at 17:00: the team lead's four hours run on Thursday the 17th.
    points = schedule(clock_for(at=sast(2026, 12, 15, 8)))
    assert [p.deadline for p in points if p.kind == "breach"] == [sast(2026, 12, 17, 12)]


def test_a_pause_moves_the_whole_schedule():
    clock = clock_for()
    clock, _ = clock.pause(sast(2026, 12, 7, 9), "waiting on client")
    assert schedule(clock) == []
    clock, _ = clock.resume(sast(2026, 12, 8, 9))
    assert [p.when for p in schedule(clock)][:3] == [sast(2026, 12, 8, 14, 45), sast(2026, 12, 8, 16),
                                                     sast(2026, 12, 8, 17)]


def test_a_stopped_clock_has_no_schedule():
    clock, _ = clock_for().stop(sast(2026, 12, 7, 12))
    assert schedule(clock) == []


def test_a_warning_longer_than_the_target_is_at_the_start():
    clock = clock_for("PT30M", ladder={"warn": [{"before": "PT1H"}], "levels": ["assignee"]})
    assert rows(schedule(clock)) == [(sast(2026, 12, 7, 8), "assignee", "warning", sast(2026, 12, 7, 8, 30)),
                                     (sast(2026, 12, 7, 8, 30), "assignee", "breach", None)]


def test_record_makes_a_warned_event():
    clock = clock_for()
    breach = [p for p in schedule(clock) if p.kind == "breach"][0]
    event = record(clock, breach)
    assert (event.kind, event.reason, event.at, event.used_minutes, event.over_minutes) == (
        "warned", "breach", sast(2026, 12, 7, 17), 540, 0)
    assert event.detail == {"level": "team_lead", "key": "resolve:breach",
                            "deadline": sast(2026, 12, 8, 12).isoformat()}


def test_refer_upward_by_hand():
    clock = clock_for()
    point = refer_upward(clock, "assignee", sast(2026, 12, 7, 10))
    assert (point.level, point.kind, point.deadline) == ("team_lead", "referral", sast(2026, 12, 7, 14))
    with pytest.raises(ValueError, match="top of ladder"):
        refer_upward(clock, "executive", sast(2026, 12, 7, 10))
    with pytest.raises(ValueError, match="not a level"):
        refer_upward(clock, "ceo", sast(2026, 12, 7, 10))


def test_notifications_wait_for_business_hours_unless_urgent():
    office = CALENDARS["za-office"]
    sunday_midnight = sast(2026, 12, 13, 0)
    assert delivery_time(office, sunday_midnight, urgent=False) == sast(2026, 12, 14, 8)
    assert delivery_time(office, sunday_midnight, urgent=True) == sunday_midnight
    assert delivery_time(office, sast(2026, 12, 14, 10), urgent=False) == sast(2026, 12, 14, 10)
    assert delivery_time(office, sast(2026, 12, 16, 10), urgent=False) == sast(2026, 12, 17, 8)
    assert delivery_time(office, sast(2026, 12, 15, 17), urgent=False) == sast(2026, 12, 17, 8)


def test_digest_gathers_a_burst_per_recipient():
    window = timedelta(minutes=15)
    burst = [Notification("lead@example.com", sast(2026, 12, 14, 8, minute), f"case {minute}", str(minute))
             for minute in (0, 5, 14)]
    other = Notification("manager@example.com", sast(2026, 12, 14, 8, 3), "case 3", "3")
    urgent = Notification("lead@example.com", sast(2026, 12, 14, 8, 7), "safety case", "9", urgent=True)
    later = Notification("lead@example.com", sast(2026, 12, 14, 8, 15), "case 15", "15")
    digests = digest([later, *burst, other, urgent], window)
    assert [(d.recipient, d.send_at, [n.case for n in d.items]) for d in digests] == [
        ("lead@example.com", sast(2026, 12, 14, 8, 7), ["9"]),
        ("lead@example.com", sast(2026, 12, 14, 8, 15), ["0", "5", "14"]),
        ("manager@example.com", sast(2026, 12, 14, 8, 18), ["3"]),
        ("lead@example.com", sast(2026, 12, 14, 8, 30), ["15"]),
    ]
    with pytest.raises(ValueError, match="longer than zero"):
        digest(burst, timedelta(0))


def test_deferred_weekend_notifications_become_one_monday_digest():
    office = CALENDARS["za-office"]
    sent = [Notification("lead@example.com", delivery_time(office, sast(2026, 12, 12, hour), urgent=False),
                         "breach", str(hour)) for hour in (1, 9, 22)]
    [one] = digest(sent, timedelta(minutes=10))
    assert one.send_at == sast(2026, 12, 14, 8, 10) and len(one.items) == 3


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"levels": []}, "levels", "non-empty list"),
    ({"levels": None}, "levels", "missing"),
    ({"levels": [{"role": "assignee", "within": "PT1H"}]}, "levels[0].within", "the target itself"),
    ({"levels": ["assignee", "team_lead"]}, "levels[1].within", "own deadline"),
    ({"levels": ["assignee", {"role": "lead", "within": "PT0S"}]}, "levels[1].within", "longer than zero"),
    ({"levels": ["assignee", {"role": "lead", "within": "soon"}]}, "levels[1].within", "ISO 8601"),
    ({"levels": ["assignee", {"role": "assignee", "within": "PT1H"}]}, "levels[1].role", "appears twice"),
    ({"levels": ["assignee", {"within": "PT1H"}]}, "levels[1].role", "missing"),
    ({"levels": ["assignee", {"role": "lead", "within": "PT1H", "email": "x"}]}, "levels[1].email", "unknown"),
    ({"levels": [7]}, "levels[0]", "must be"),
    ({"warn": [{"percent": 0}]}, "warn[0].percent", "between 0 and 100"),
    ({"warn": [{"percent": 100}]}, "warn[0].percent", "between 0 and 100"),
    ({"warn": [{"percent": "75"}]}, "warn[0].percent", "between 0 and 100"),
    ({"warn": [{"percent": 50, "before": "PT1H"}]}, "warn[0]", "exactly one"),
    ({"warn": [{"minutes": 30}]}, "warn[0]", "exactly one"),
    ({"warn": [{"before": "calendar:PT1H"}]}, "warn[0].before", "target's own time"),
    ({"warn": [{"before": "PT0M"}]}, "warn[0].before", "longer than zero"),
    ({"warn": {"percent": 75}}, "warn", "must be a list"),
    ({"repeat": "PT1H"}, "repeat", "unknown field"),
])
def test_each_ladder_mistake_is_named(change, field, message):
    with pytest.raises(LadderError) as caught:
        load_ladder("standard", dict(LADDER, **change))
    assert (caught.value.ladder, caught.value.field) == ("standard", field)
    assert message in str(caught.value) and isinstance(caught.value, ValueError)


def test_an_sla_file_names_its_staff_mail_and_refuses_a_wrong_list():
    policy = {"calendar": "za-office", "rules": [{"name": "all", "when": {}, "targets": {"resolve": "P5D"}}]}
    calendars = shipped_calendars()
    assert load_case_sla({"policy": policy}, calendars).staff_mail == STAFF_MAIL == {"sla_warning", "escalation"}
    assert load_case_sla({"policy": policy, "staff_mail": ["escalation"]}, calendars).staff_mail == {"escalation"}
    for wrong in ("escalation", ["Escalation!"], [5]):
        with pytest.raises(PolicyError, match="staff_mail.*list of mail template names"):
            load_case_sla({"policy": policy, "staff_mail": wrong}, calendars)


def test_staff_mail_waits_for_the_opening_or_for_its_digest_window():
    office, window = shipped_calendars()["za-office"], timedelta(minutes=15)
    assert send_at(office, sast(2026, 12, 13, 0), window, None) == sast(2026, 12, 14, 8)  # Sunday -> Monday 08:00
    assert send_at(office, sast(2026, 12, 16, 10), window, None) == sast(2026, 12, 17, 8)  # a public holiday
    assert send_at(office, sast(2026, 12, 14, 10), window, None) == sast(2026, 12, 14, 10, 15)  # open: a window
    assert send_at(office, sast(2026, 12, 14, 10, 5), window, sast(2026, 12, 14, 10, 15)) == \
        sast(2026, 12, 14, 10, 15)  # joins the recipient's open window
    assert send_at(office, sast(2026, 12, 14, 10, 20), window, sast(2026, 12, 14, 10, 15)) == \
        sast(2026, 12, 14, 10, 35)  # that window has closed
