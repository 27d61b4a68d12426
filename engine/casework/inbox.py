"""The staff inbox query: my tasks, my lanes' unclaimed tasks or a supervisor's team, searched and sorted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, case, false, or_, select, true

from engine.casework import search_fields
from engine.casework.supervision import LaneScope
from engine.core import tasks
from engine.core.db.models import NO_DUE_DATE, ProcessInstance
from engine.core.users import UserView
from engine.errors import InvalidInput
from engine.sla import store as sla_store

HUMAN = tasks.HUMAN
VIEWS = ("mine", "group", "team")
SORTS = ("due", "-due", "waiting", "process")
MAX_QUERY = 100


@dataclass(frozen=True)
class InboxQuery:
    """What an inbox page asks for; `q` is matched in the task name, the case reference, the case's searchable
    fields (engine/casework/search_fields.py) and, outside the team view (where every row is in the user's own
    lanes), the client label and the searchable fields that are personal."""

    view: str = "mine"
    q: str | None = None
    sort: str = "due"
    process_key: str | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    sla: str | None = None  # overdue, breached, escalated or paused: cases with such an SLA clock at `now`
    now: datetime | None = None

    def __post_init__(self) -> None:
        if self.sla is not None and self.sla not in sla_store.SLA_FILTERS:
            raise InvalidInput(f"sla must be one of: {', '.join(sla_store.SLA_FILTERS)}")
        if self.sla is not None and self.now is None:
            raise InvalidInput("an SLA filter needs the time it is judged at (now)")
        if self.view not in VIEWS:
            raise InvalidInput(f"view must be one of: {', '.join(VIEWS)}")
        if self.sort not in SORTS:
            raise InvalidInput(f"sort must be one of: {', '.join(SORTS)}")
        if self.q is not None and len(self.q) > MAX_QUERY:
            raise InvalidInput(f"the search text may have at most {MAX_QUERY} characters")


def escape_like(text: str) -> str:
    """`text` as a literal inside a LIKE pattern (backslash is the escape character)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def in_scope(scope: LaneScope):
    """A where-clause: the task is in a lane of `scope`."""
    if scope.every_lane:
        return or_(HUMAN.c.lane.is_(None), HUMAN.c.lane.not_in(sorted(scope.lanes))) if scope.lanes else true()
    return HUMAN.c.lane.in_(sorted(scope.lanes)) if scope.lanes else false()


def supervises_any(conn: Connection, scope: LaneScope) -> bool:
    """Whether an open task is in a lane of `scope` (one indexed probe; none when the scope is empty)."""
    return not scope.empty and conn.scalar(select(HUMAN.c.id).where(in_scope(scope)).limit(1)) is not None


def statement(query: InboxQuery, user: UserView, team: LaneScope):
    """The select of task rows (with reference, label, definition id) for `query` as `user` may see them.

    `team`: the lanes the user supervises (used by the team view only)."""
    filters = dict(process_key=query.process_key, due_before=query.due_before, due_after=query.due_after)
    if query.view == "team":
        stmt = tasks.query(**filters).where(in_scope(team))
    else:
        stmt = tasks.query(user=user, mine=query.view == "mine", **filters)
    if query.sla:
        stmt = stmt.where(sla_store.instance_filter(query.sla, query.now, HUMAN.c.instance_id))
    if query.sla == "overdue":
        # Exact, since a save writes the earliest running clock's due into `sort_due`; it bounds the index walk.
        stmt = stmt.where(HUMAN.c.sort_due <= query.now)
    text = (query.q or "").strip()
    if text:
        pattern = f"%{escape_like(text.lower())}%"
        columns = [HUMAN.c.name, ProcessInstance.reference]
        if query.view != "team":
            columns.append(ProcessInstance.label)
        stmt = stmt.where(or_(*(column.ilike(pattern, escape="\\") for column in columns),
                              search_fields.matches(HUMAN.c.instance_id, pattern, personal=query.view != "team")))
    return _order(stmt, query.sort)


def _order(stmt, sort: str):
    # `sort_due` is the case's SLA due where a clock runs, else the task's own (engine/sla/service.py order_tasks)
    undated_last = case((HUMAN.c.sort_due == NO_DUE_DATE, 1), else_=0)
    order = {
        "due": (HUMAN.c.sort_due, HUMAN.c.created_at),
        "-due": (undated_last, HUMAN.c.sort_due.desc(), HUMAN.c.created_at),
        "waiting": (HUMAN.c.created_at,),
        "process": (HUMAN.c.process_key, HUMAN.c.sort_due, HUMAN.c.created_at),
    }[sort]
    return stmt.order_by(*order, HUMAN.c.id)
