"""Data protection for Compliance Officers: data map, access log, subject access export, erasure requests.

Searches for a person are posted, never put in the URL: a URL ends up in server and proxy logs.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta

from engine import privacy
from engine.errors import InstanceNotFound, InvalidInput
from engine.privacy import access_log as log_table
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from webapp.extensions import get_engine
from webapp.web.access import log_access
from webapp.web.auth import require_login
from webapp.web.privacy_export import bundle_name, sar_bundle
from webapp.web.views.inbox import page_args

bp = Blueprint("privacy", __name__, url_prefix="/privacy")
require_login(bp)


@bp.before_request
def compliance_only():
    """Every page here shows or changes personal data of many people: Compliance Officers (and Admins) only."""
    if not current_user.has_role(privacy.COMPLIANCE_ROLE):
        abort(403, description=f"Data protection pages need the role {privacy.COMPLIANCE_ROLE}.")


class SearchForm(FlaskForm):
    q = StringField("E-mail address, ID number or case reference",
                    validators=[DataRequired(), Length(min=privacy.subjects.MIN_TERM, max=255)])


class ExportForm(SearchForm):
    reason = StringField("Why (the request's own reference, not personal data)",
                         validators=[DataRequired(), Length(min=3, max=log_table.MAX_WHY)])


class ErasureForm(FlaskForm):
    reason = TextAreaField("Reason for the erasure", validators=[
        DataRequired(), Length(min=privacy.requests.MIN_REASON, max=privacy.requests.MAX_REASON)])


class DecisionForm(FlaskForm):
    note = TextAreaField("Note", validators=[Optional(), Length(max=privacy.requests.MAX_REASON)])


@bp.get("/")
def index():
    return render_template("privacy/index.html", processes=privacy.data_map(get_engine()))


@bp.get("/access-log")
def access_log():
    page, size, offset = page_args()
    try:
        filters = log_filters(request.args)
        rows = log_table_search(filters, size + 1, offset)
    except InvalidInput as err:
        return render_template("privacy/access_log.html", entries=[], problem=str(err), args=request.args,
                               actions=log_table.ACTIONS, page=1, has_next=False), 400
    return render_template("privacy/access_log.html", entries=rows[:size], problem=None, args=request.args,
                           actions=log_table.ACTIONS, page=page, has_next=len(rows) > size)


def log_filters(args) -> dict:
    """Access-log filters from the query string; bad values are `InvalidInput` naming the filter."""
    filters = {"actor": (args.get("actor") or "").strip()[:80] or None, "action": args.get("action") or None,
               "since": _day(args, "from"), "until": _day(args, "to")}
    if filters["until"] is not None:
        filters["until"] += timedelta(days=1)
    case = (args.get("case") or "").strip()
    if case:
        filters["instance_ids"] = [int(case)] if case.isdigit() and len(case) < 10 else [_by_reference(case)]
    return filters


def _day(args, name: str) -> datetime | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return datetime.combine(date.fromisoformat(raw), time(), UTC)
    except ValueError:
        raise InvalidInput(f"`{name}` must be a date written as YYYY-MM-DD") from None


def _by_reference(reference: str) -> int:
    try:
        return get_engine().instance_by_reference(reference[:40]).id
    except InstanceNotFound:
        raise InvalidInput("no case has that reference") from None


def log_table_search(filters: dict, limit: int, offset: int) -> list:
    with get_engine().sql_engine.connect() as conn:
        return log_table.search(conn, limit=limit, offset=offset, **filters)


@bp.route("/subjects", methods=["GET", "POST"])
def subjects():
    form, record = SearchForm(), None
    if form.validate_on_submit():
        record = privacy.find_subject(get_engine(), form.q.data)
        log_access("search", subjects=record.instance_ids, why="subject access search")
    return render_template("privacy/subjects.html", form=form, record=record,
                           export_form=ExportForm(formdata=None, q=form.q.data), erasure_form=ErasureForm())


@bp.post("/subjects/export")
def export():
    form = ExportForm()
    if not form.validate():
        return render_template("privacy/subjects.html", form=SearchForm(formdata=None, q=form.q.data),
                               record=None, export_form=form, erasure_form=ErasureForm()), 422
    record = privacy.find_subject(get_engine(), form.q.data)
    if record.empty:
        flash("Nothing is held about that person, so there is nothing to export.", "info")
        return redirect(url_for("privacy.subjects"), 303)
    log_access("export", subjects=record.instance_ids, why=form.reason.data)
    return send_file(io.BytesIO(sar_bundle(record)), mimetype="application/zip", as_attachment=True,
                     download_name=bundle_name(record), max_age=0)


@bp.get("/erasures")
def erasures():
    return render_template("privacy/erasures.html", requests=privacy.erasure_requests(get_engine()),
                           decision_form=DecisionForm())


@bp.post("/erasures")
def request_erasure():
    form = ErasureForm()
    ids = request.form.getlist("instance_id", type=int)
    if not form.validate():
        flash(f"Give the reason for the erasure ({privacy.requests.MIN_REASON} to {privacy.requests.MAX_REASON} "
              "characters); nothing was requested.", "error")
        return redirect(url_for("privacy.erasures"), 303)
    try:
        made = privacy.request_erasure(get_engine(), ids, form.reason.data, by=current_user.username)
    except InvalidInput as err:
        flash(f"Nothing was requested: {err}.", "error")
        return redirect(url_for("privacy.erasures"), 303)
    flash(f"Erasure request {made.id} now waits for another Compliance Officer's approval.", "success")
    return redirect(url_for("privacy.erasures"), 303)


@bp.post("/erasures/<int(max=2147483647):request_id>/approve")
def approve(request_id: int):
    try:
        done = privacy.approve_erasure(get_engine(), request_id, by=current_user.username)
    except InvalidInput as err:
        flash(f"Nothing was erased: {err}.", "error")
        return redirect(url_for("privacy.erasures"), 303)
    flash(f"Erasure request {done.id} approved: {len(done.instances)} case(s) anonymised.", "success")
    return redirect(url_for("privacy.erasures"), 303)


@bp.post("/erasures/<int(max=2147483647):request_id>/reject")
def reject(request_id: int):
    form = DecisionForm()
    try:
        privacy.reject_erasure(get_engine(), request_id, by=current_user.username, note=form.note.data or "")
    except InvalidInput as err:
        flash(f"Nothing was changed: {err}.", "error")
        return redirect(url_for("privacy.erasures"), 303)
    flash(f"Erasure request {request_id} was rejected; nothing was erased.", "success")
    return redirect(url_for("privacy.erasures"), 303)
