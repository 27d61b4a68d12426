"""Report tables as JSON (managers; the same figures as the Reports dashboard and its CSV downloads)."""

from __future__ import annotations

from engine import reports
from engine.errors import NotFound
from flask import current_app, g, jsonify, request

from webapp.extensions import get_engine
from webapp.web.api.blueprint import bp
from webapp.web.auth import check_role
from webapp.web.views.reports import REPORT_ROLES


@bp.get("/reports/<name>")
def report(name: str):
    check_role(g.api_user, frozenset(REPORT_ROLES))
    if name not in reports.TABLES:
        raise NotFound(f"there is no report table called {name[:80]!r}; known: {', '.join(reports.TABLES)}")
    engine = get_engine()
    filters = reports.parse_filters(request.args, engine.clock.now().date(), [p.key for p in engine.processes()])
    with engine.sql_engine.connect() as conn:
        table = reports.table(conn, name, filters, engine.clock.now(), current_app.config.get("REPORT_MILESTONES"))
    return jsonify({"name": table.name, "title": table.title, "from": filters.start.isoformat(),
                    "to": filters.end.isoformat(), "columns": list(table.columns),
                    "rows": [list(row) for row in table.rows]})
