"""Service reports for managers: the dashboard, CSV exports of every table, and the monthly summary."""

from __future__ import annotations

import csv
import io

from engine import reports
from engine.errors import InvalidInput
from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user

from webapp.extensions import get_engine
from webapp.web.auth import require_login

bp = Blueprint("reports", __name__, url_prefix="/reports")
require_login(bp)

REPORT_ROLES = ("Manager",)  # Admin has every role
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@bp.before_request
def _managers_only():
    if not current_user.has_role(*REPORT_ROLES):
        abort(403, description="Reports are for managers: this needs the Manager role.")


def _today():
    return get_engine().clock.now().date()


def _filters() -> reports.Filters:
    keys = [p.key for p in get_engine().processes()]
    return reports.parse_filters(request.args, _today(), keys)


def _overrides():
    return current_app.config.get("REPORT_MILESTONES")


def _month() -> tuple:
    return reports.parse_month(request.args.get("month"), _today())


def _cell(value) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is quoted with a leading apostrophe."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(_FORMULA_START) else text


def csv_response(table: reports.Table, filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.columns)
    writer.writerows([_cell(v) for v in row] for row in table.rows)
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/")
def dashboard():
    engine, problem = get_engine(), None
    try:
        filters = _filters()
    except InvalidInput as err:  # a bad filter is shown beside the filters; the dashboard stays, with the defaults
        problem, filters = str(err), reports.parse_filters({}, _today(), [])
    with engine.sql_engine.connect() as conn:
        tables = reports.dashboard(conn, filters, engine.clock.now(), _overrides())
        categories = reports.categories(conn)
    data = {name: {"columns": t.columns, "rows": t.rows} for name, t in tables.items()}
    return render_template("reports/dashboard.html", filters=filters, tables=tables, data=data,
                           headline=reports.headline(tables), processes=engine.processes(), categories=categories,
                           milestones=reports.MILESTONES, problem=problem), 400 if problem else 200


@bp.get("/<name>.csv")
def export(name: str):
    if name not in reports.TABLES:
        abort(404, description=f"There is no report table called {name!r}.")
    engine, filters = get_engine(), _filters()
    with engine.sql_engine.connect() as conn:
        table = reports.table(conn, name, filters, engine.clock.now(), _overrides())
    return csv_response(table, f"{name}_{filters.start}_{filters.end}.csv")


def _monthly():
    engine, (first, last) = get_engine(), _month()
    process = _filters().process
    with engine.sql_engine.connect() as conn:
        return reports.monthly_summary(conn, first, last, engine.clock.now(), process, _overrides())


@bp.get("/monthly")
def monthly():
    filters, tables, summary = _monthly()
    return render_template("reports/monthly.html", filters=filters, tables=tables, summary=summary,
                           month=filters.start.strftime("%Y-%m"), processes=get_engine().processes())


@bp.get("/monthly.csv")
def monthly_csv():
    filters, _tables, summary = _monthly()
    return csv_response(summary, f"service_summary_{filters.start:%Y-%m}.csv")
