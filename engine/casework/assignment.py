"""Assigning tasks: a supervisor's team, who may take a task, and assignment changes through the kernel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from engine.casework.supervision import Supervision
from engine.core import actions
from engine.core.db.models import User, UserRole
from engine.core.users import ADMIN_ROLE, UserView
from engine.results import TaskView

if TYPE_CHECKING:
    from engine.core.services import Services


def assign(services: Services, supervision: Supervision, task_id: str, assignee: str | None,
           by: UserView | str) -> TaskView:
    """Give the task to `assignee` (None: release it) if `by` may: see `Supervision.change_kind`."""
    return actions.assign(services, task_id, by, assignee, supervision.change_kind)


def candidates(conn, lanes: list[str | None]) -> list[tuple[str, str]]:
    """(username, display name) of active users who may work in every one of `lanes` (Admin may work in all)."""
    named = sorted({lane for lane in lanes if lane is not None})
    rows = conn.execute(select(User.username, User.display_name, UserRole.role_name)
                        .join(UserRole, UserRole.user_id == User.id)
                        .where(User.active.is_(True), UserRole.role_name.in_([*named, ADMIN_ROLE]))).all()
    roles: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        roles.setdefault((row.username, row.display_name or row.username), set()).add(row.role_name)
    if not named:  # tasks outside any lane: everyone active may take them
        everyone = conn.execute(select(User.username, User.display_name).where(User.active.is_(True))).all()
        return sorted((r.username, r.display_name or r.username) for r in everyone)
    return sorted(user for user, held in roles.items() if ADMIN_ROLE in held or set(named) <= held)
