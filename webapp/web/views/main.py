"""Overview page: deployed processes (with a start button), recent instances, my open tasks."""

from flask import Blueprint, render_template
from flask_login import current_user

from webapp.extensions import get_engine
from webapp.web.access import search_instances
from webapp.web.auth import require_login
from webapp.web.views.inbox import due_window
from webapp.web.views.wording import latest_processes

bp = Blueprint("main", __name__)
require_login(bp)


@bp.get("/")
def index():
    engine = get_engine()
    now, soon = due_window()
    return render_template("index.html", processes=latest_processes(), instances=search_instances(limit=10),
                           tasks=engine.tasks(user=current_user.username, limit=10), now=now, soon=soon)
