"""Who supervises a lane: the roles that may see all of its tasks and release, reassign or assign them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from engine.core.users import ADMIN_ROLE, UserView
from engine.errors import InvalidInput, NotAllowed

# Without a per-lane setting, these roles supervise every lane (besides "<Lane> Supervisor" and Admin).
GENERAL_SUPERVISORS = frozenset({"Supervisor", "Manager"})


SUPERVISOR_SUFFIX = " Supervisor"  # "<Lane> Supervisor" supervises <Lane>


@dataclass(frozen=True)
class LaneScope:
    """Lanes a user supervises: with `every_lane`, every lane and the tasks outside any lane except `lanes`;
    without it, exactly `lanes` (and no task outside a lane)."""

    every_lane: bool
    lanes: frozenset[str]

    @property
    def empty(self) -> bool:
        return not self.every_lane and not self.lanes


@dataclass(frozen=True)
class Supervision:
    """`lanes` maps a lane to the roles that supervise it; a lane listed there is supervised by those roles (and
    Admin) only, any other lane by "<Lane> Supervisor", the general supervisor roles and Admin."""

    lanes: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, setting: Mapping[str, Iterable[str]] | None) -> Supervision:
        """The rule from the `LANE_SUPERVISORS` setting (lane -> role names), checked."""
        lanes = {}
        for lane, roles in (setting or {}).items():
            if not isinstance(lane, str) or isinstance(roles, str) or not all(isinstance(r, str) for r in roles):
                raise InvalidInput("LANE_SUPERVISORS must map each lane name to a list of role names")
            lanes[lane] = frozenset(r.strip() for r in roles if r.strip())
        return cls(lanes)

    def roles_for(self, lane: str | None) -> frozenset[str]:
        if lane is not None and lane in self.lanes:
            return self.lanes[lane] | {ADMIN_ROLE}
        own = {f"{lane}{SUPERVISOR_SUFFIX}"} if lane else set()
        return GENERAL_SUPERVISORS | own | {ADMIN_ROLE}

    def supervises(self, user: UserView, lane: str | None) -> bool:
        return bool(self.roles_for(lane) & user.roles)

    def scope(self, user: UserView) -> LaneScope:
        """The lanes the user supervises, without listing the lanes that exist (the inbox turns it into a
        condition on `human_task.lane`, rather than reading every open task's lane first)."""
        configured = frozenset(lane for lane in self.lanes if self.supervises(user, lane))
        if user.roles & (GENERAL_SUPERVISORS | {ADMIN_ROLE}):
            return LaneScope(every_lane=True, lanes=frozenset(self.lanes) - configured)
        own = {role.removesuffix(SUPERVISOR_SUFFIX) for role in user.roles if role.endswith(SUPERVISOR_SUFFIX)}
        return LaneScope(every_lane=False, lanes=(frozenset(own) - frozenset(self.lanes)) | configured)

    def change_kind(self, actor: UserView, task, assignee: str | None) -> str:
        """The kind of an assignment change `actor` makes to the `human_task` row `task`, or NotAllowed.

        A supervisor of the lane assigns, reassigns and releases; the holder releases or delegates (hands the
        task to a colleague); anyone in the lane may take an unassigned task."""
        holder = task.claimed_by
        if self.supervises(actor, task.lane):
            if assignee is None:
                return "task_released"
            return "task_assigned" if holder is None else "task_reassigned"
        if holder == actor.username:
            return "task_released" if assignee is None else "task_delegated"
        if holder is None and assignee == actor.username and actor.may_work_in(task.lane):
            return "task_claimed"
        raise NotAllowed(f"{actor.username} does not supervise the {task.lane or 'unassigned'} lane"
                         + (f" and does not hold this task (it is with {holder})" if holder else ""))
