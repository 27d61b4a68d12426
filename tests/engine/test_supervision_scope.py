"""Which lanes a user supervises, as the inbox asks it: without reading the lanes of every open task."""

import pytest

from engine.casework.supervision import LaneScope, Supervision
from engine.core.users import UserView

KNOWN = [None, "Agent", "Compliance Officer", "Supervisor Desk"]


def user(*roles: str) -> UserView:
    return UserView(1, "u", "U", None, frozenset(roles), True)


def lanes_in(scope: LaneScope) -> list:
    """The known lanes the scope covers, worked out as the SQL condition does."""
    if scope.every_lane:
        return [lane for lane in KNOWN if lane is None or lane not in scope.lanes]
    return [lane for lane in KNOWN if lane is not None and lane in scope.lanes]


@pytest.mark.parametrize("roles", [(), ("Agent",), ("Manager",), ("Admin",), ("Agent Supervisor",),
                                   ("Head of Compliance",), ("Supervisor", "Agent"), ("Compliance Officer",)])
@pytest.mark.parametrize("setting", [None, {"Compliance Officer": ["Head of Compliance"]}])
def test_the_scope_covers_exactly_the_lanes_the_rule_says(roles, setting):
    supervision = Supervision.of(setting)
    expected = [lane for lane in KNOWN if supervision.supervises(user(*roles), lane)]
    assert lanes_in(supervision.scope(user(*roles))) == expected


def test_an_agent_supervises_nothing_and_needs_no_query():
    assert Supervision().scope(user("Agent")).empty
    assert not Supervision().scope(user("Agent Supervisor")).empty
