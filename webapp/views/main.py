"""Overview page: deployed processes, recent instances, open tasks."""

from flask import Blueprint, render_template

from webapp import get_engine

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    engine = get_engine()
    return render_template("index.html", processes=engine.processes(), instances=engine.list_instances(limit=20),
                           tasks=engine.tasks(limit=20))
