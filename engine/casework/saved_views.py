"""Saved inbox views: a user names the current filters, search and sort, and opens them again in one click."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.casework.inbox import SORTS, VIEWS
from engine.casework.models import SavedView
from engine.errors import InvalidInput, SavedViewNotFound
from engine.sla.store import SLA_FILTERS

# The inbox parameters a view keeps (anything else in the query string is dropped).
PARAMS = ("view", "process", "due", "q", "sort", "sla")
MAX_VIEWS = 20
MAX_NAME = 60


@dataclass(frozen=True)
class View:
    id: int
    name: str
    params: dict[str, str]
    created_at: datetime


def _view(row: SavedView) -> View:
    return View(row.id, row.name, dict(row.params), row.created_at)


def clean_params(params: dict[str, Any]) -> dict[str, str]:
    kept = {k: str(v).strip() for k, v in params.items() if k in PARAMS and v not in (None, "")}
    if kept.get("view", "mine") not in VIEWS or kept.get("sort", "due") not in SORTS:
        raise InvalidInput("a saved view needs a known list (view) and sort order")
    if kept.get("sla", SLA_FILTERS[0]) not in SLA_FILTERS:
        raise InvalidInput(f"a saved view's SLA filter must be one of: {', '.join(SLA_FILTERS)}")
    if any(len(v) > 120 for v in kept.values()):
        raise InvalidInput("a saved view's values may have at most 120 characters each")
    return kept


def save(session: Session, username: str, name: str, params: dict[str, Any], now: datetime) -> View:
    """Create the user's view `name`, or replace its parameters when it exists."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"give the view a name of 1 to {MAX_NAME} characters")
    kept = clean_params(params)
    row = session.scalar(select(SavedView).where(SavedView.username == username, SavedView.name == name))
    if row is None:
        count = session.scalar(select(func.count()).select_from(SavedView).where(SavedView.username == username))
        if count >= MAX_VIEWS:
            raise InvalidInput(f"you have {MAX_VIEWS} saved views already: delete one first")
        row = SavedView(username=username, name=name, params=kept, created_at=now)
        session.add(row)
    else:
        row.params = kept
    session.flush()
    return _view(row)


def of_user(session: Session, username: str) -> list[View]:
    rows = session.scalars(select(SavedView).where(SavedView.username == username).order_by(SavedView.name))
    return [_view(r) for r in rows]


def remove(session: Session, username: str, view_id: int) -> None:
    deleted = session.execute(delete(SavedView).where(SavedView.id == view_id, SavedView.username == username))
    if deleted.rowcount != 1:
        raise SavedViewNotFound(f"you have no saved view with id {view_id}")
