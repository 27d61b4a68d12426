"""The inbox: my claimed tasks, my lanes' unclaimed tasks and a supervisor's team, searched, sorted and saved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from engine.casework.inbox import InboxQuery
from engine.errors import ClientflowError, ConcurrentUpdate, InvalidInput
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.extensions import get_engine
from webapp.web.auth import require_login
from webapp.web.views.forms import ActionForm
from webapp.web.views.wording import latest_processes

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
require_login(bp)

DUE_FILTERS = ("overdue", "soon")
SLA_FILTERS = {"overdue": "Past an SLA target", "breached": "SLA breached", "escalated": "Escalated",
               "paused": "Paused (waiting on client)"}
SORTS = {"due": "Due date, soonest first", "-due": "Due date, latest first", "waiting": "Waiting longest",
         "process": "Process"}
# Beyond this page the offset no longer fits the database's integers (and no inbox is that long).
MAX_PAGE = 100_000
BULK_ACTIONS = ("claim", "assign", "release")


@bp.app_template_filter("local_time")
def local_time(value: datetime) -> str:
    """A time as staff read it: in DISPLAY_TIMEZONE (default Africa/Johannesburg), with the offset shown."""
    zone = ZoneInfo(current_app.config.get("DISPLAY_TIMEZONE") or "Africa/Johannesburg")
    local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"


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
    if page > MAX_PAGE:
        abort(400, description=f"There is no page {page}: pages go up to {MAX_PAGE}.")
    size = current_app.config["PAGE_SIZE"]
    return page, size, (page - 1) * size


def inbox_query(supervisor: bool) -> InboxQuery:
    """The list, search, sort and filters asked for in the query string (unknown values fall back)."""
    args = request.args
    view = args.get("view") if args.get("view") in ("mine", "group", "team") else "mine"
    if view == "team" and not supervisor:
        abort(403, description="The team view is for supervisors of a lane, and you supervise none.")
    due = args.get("due") if args.get("due") in DUE_FILTERS else None
    return InboxQuery(view=view, q=(args.get("q") or "").strip()[:100] or None,
                      sort=args.get("sort") if args.get("sort") in SORTS else "due",
                      process_key=args.get("process") or None, **due_filter(due),
                      sla=args.get("sla") if args.get("sla") in SLA_FILTERS else None, now=due_window()[0])


@bp.get("/")
def index():
    engine = get_engine()
    supervisor = engine.supervises(current_user.username)
    query = inbox_query(supervisor)
    page, size, offset = page_args()
    tasks = engine.inbox(current_user.username, query, limit=size + 1, offset=offset)
    now, soon = due_window()
    lanes = sorted({t.lane for t in tasks[:size]}, key=lambda lane: lane or "")
    return render_template("inbox/index.html", tasks=tasks[:size], has_next=len(tasks) > size, page=page,
                           query=query, due=request.args.get("due") if request.args.get("due") in DUE_FILTERS
                           else None, sorts=SORTS, supervisor=supervisor, processes=latest_processes(), now=now,
                           soon=soon, saved=engine.saved_views(current_user.username),
                           assignees=engine.assignable_users(lanes) if query.view == "team" and tasks else [],
                           action_form=ActionForm(), sla_filters=SLA_FILTERS,
                           sla=engine.sla_badges([t.instance_id for t in tasks[:size]]))


def back_to_inbox():
    """Where a bulk or saved-view action returns: the inbox list it was posted from."""
    target = request.form.get("next", "")
    if not target.startswith("/inbox/") or target.startswith("//"):
        target = url_for("inbox.index")
    return redirect(target, 303)


@bp.post("/bulk")
def bulk():
    action, ids = request.form.get("action"), request.form.getlist("task")
    assignee = (request.form.get("assignee") or "").strip() or None
    if action not in BULK_ACTIONS or not ids or (action == "assign" and not assignee):
        flash("Choose one or more tasks, an action and (to assign) a person; nothing was changed.", "warning")
        return back_to_inbox()
    to = {"claim": current_user.username, "assign": assignee, "release": None}[action]
    done, refused = 0, []
    for task_id in ids[:200]:
        try:
            get_engine().assign(task_id, to, by=current_user.username)
            done += 1
        except ConcurrentUpdate:
            refused.append("a colleague changed one task at the same moment")
        except ClientflowError as err:
            refused.append(str(err))
    verb = {"claim": "claimed by you", "assign": f"assigned to {assignee}", "release": "released"}[action]
    flash(f"{done} task{'s' if done != 1 else ''} {verb}.", "success" if done else "info")
    if refused:
        flash("Not changed: " + "; ".join(dict.fromkeys(refused)) + ".", "warning")
    return back_to_inbox()


@bp.post("/views")
def save_view():
    params = {k: request.form.get(k, "") for k in ("view", "process", "due", "q", "sort", "sla")}
    try:
        view = get_engine().save_view(current_user.username, request.form.get("name", ""), params)
    except InvalidInput as err:
        flash(f"The view was not saved: {err}.", "warning")
        return back_to_inbox()
    flash(f"Saved the view “{view.name}”.", "success")
    return redirect(url_for("inbox.index", **view.params), 303)


@bp.post("/views/<int(max=2147483647):view_id>/delete")
def delete_view(view_id: int):
    get_engine().delete_view(current_user.username, view_id)
    flash("The saved view was deleted.", "success")
    return redirect(url_for("inbox.index"), 303)
