"""Service reports for managers: the dashboard, CSV exports of every table, and the monthly summary."""

from __future__ import annotations

import csv
import io

from engine import reports
from engine.errors import InvalidInput, InvalidModel
from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user

from webapp.extensions import get_engine
from webapp.web.auth import require_login
from webapp.web.views.wording import latest_processes

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
    headline, labels = reports.headline(tables), option_labels(engine)
    tables = {name: labelled(t, labels) for name, t in tables.items()}
    data = {name: {"columns": t.columns, "rows": t.rows} for name, t in tables.items()}
    return render_template("reports/dashboard.html", filters=filters, tables=tables, data=data,
                           headline=headline, processes=latest_processes(), categories=categories,
                           category_labels=labels.get("category", {}),
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
    labels = option_labels(get_engine())
    return render_template("reports/monthly.html", filters=filters, summary=summary,
                           tables={name: labelled(t, labels) for name, t in tables.items()},
                           month=filters.start.strftime("%Y-%m"), processes=latest_processes(),
                           previous=reports.shift_month(filters.start, -1), following=reports.shift_month(
                               filters.start, 1) if filters.end < _today() else None)


# Report columns that hold a form field's codes (shown with the forms' option labels on the pages, codes in CSV).
LABELLED_COLUMNS = ("category", "severity")


def option_labels(engine) -> dict[str, dict[str, str]]:
    """Code -> label of each labelled column, from the forms of every deployed process."""
    found: dict[str, dict[str, str]] = {column: {} for column in LABELLED_COLUMNS}
    for process in engine.processes():
        try:
            fields = engine.process_labels(process.key).fields
        except InvalidModel:  # a stored version that no longer parses: its codes show as they are
            continue
        for column in LABELLED_COLUMNS:
            if column in fields:
                found[column] = {**fields[column].options, **found[column]}
    return found


def labelled(table: reports.Table, labels: dict[str, dict[str, str]]) -> reports.Table:
    """The table with codes in its labelled columns replaced by their labels."""
    columns = [(i, labels[c]) for i, c in enumerate(table.columns) if labels.get(c)]
    if not columns:
        return table
    rows = []
    for row in table.rows:
        row = list(row)
        for index, names in columns:
            row[index] = names.get(str(row[index]), row[index]) if row[index] is not None else None
        rows.append(tuple(row))
    return reports.Table(table.name, table.title, table.columns, rows)


@bp.get("/monthly.csv")
def monthly_csv():
    filters, _tables, summary = _monthly()
    return csv_response(summary, f"service_summary_{filters.start:%Y-%m}.csv")
