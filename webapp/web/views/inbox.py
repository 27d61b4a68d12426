"""The inbox: my claimed tasks and my lanes' unclaimed tasks, from the `human_task` table only."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from webapp.extensions import get_engine
from webapp.web.auth import require_login
from webapp.web.views.forms import ActionForm

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
require_login(bp)

VIEWS = {"mine": True, "group": False}
DUE_FILTERS = ("overdue", "soon")


def due_window() -> tuple[datetime, datetime]:
    """Now, and the end of the "due soon" window (DUE_SOON_HOURS, 24 by default)."""
    now = get_engine().clock.now()
    return now, now + timedelta(hours=current_app.config.get("DUE_SOON_HOURS", 24))


def due_filter(name: str | None) -> dict:
    now, soon = due_window()
    if name == "overdue":
        return {"due_before": now}
    if name == "soon":
        return {"due_after": now, "due_before": soon}
    return {}


def page_args() -> tuple[int, int, int]:
    """(page, limit, offset) from `?page=`, one extra row fetched to know whether a next page exists."""
    page = max(request.args.get("page", 1, type=int), 1)
    size = current_app.config["PAGE_SIZE"]
    return page, size, (page - 1) * size


@bp.get("/")
def index():
    engine = get_engine()
    view = request.args.get("view") if request.args.get("view") in VIEWS else "mine"
    process = request.args.get("process") or None
    due = request.args.get("due") if request.args.get("due") in DUE_FILTERS else None
    page, size, offset = page_args()
    tasks = engine.tasks(user=current_user.username, mine=VIEWS[view], process_key=process,
                         limit=size + 1, offset=offset, **due_filter(due))
    now, soon = due_window()
    return render_template("inbox/index.html", tasks=tasks[:size], has_next=len(tasks) > size, page=page,
                           view=view, process=process, due=due, processes=engine.processes(), now=now, soon=soon,
                           action_form=ActionForm())
