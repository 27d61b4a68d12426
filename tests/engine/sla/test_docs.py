"""The JSON examples in docs/sla.md load as written."""

import json
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.sla import due, load_calendars, load_policy, parse_duration, shipped_calendars, targets_for
from engine.sla.casefile import load_case_sla

DOC = Path(__file__).resolve().parents[3] / "docs" / "sla.md"


def examples():
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)]


def test_the_calendar_and_policy_examples_load():
    calendar_doc, policy_doc, _sla_file = examples()
    calendars = shipped_calendars() | load_calendars(calendar_doc)
    branch = calendars["cpt-branch"]
    sast = ZoneInfo("Africa/Johannesburg")
    # Friday 12:00 plus 5 h: one hour before lunch, three after it, one on Saturday morning.
    assert due(branch, datetime(2026, 12, 11, 12, tzinfo=sast), parse_duration("PT5H")) == datetime(
        2026, 12, 12, 10, tzinfo=sast)
    policy = load_policy(policy_doc, calendars)
    assert [rule.name for rule in policy.rules] == ["safety", "urgent", "default"]
    assert targets_for(policy, {"category": "safety"})["resolve"].calendar.name == "24x7"


def test_the_process_sla_file_example_loads():
    sla = load_case_sla(examples()[2], shipped_calendars())
    assert sla.status == "stage" and sla.met_by["resolve"] == {"inform_resolution"}
    assert sla.policy.pauses("Waiting on client") and sla.is_urgent({"severity": "critical"})
