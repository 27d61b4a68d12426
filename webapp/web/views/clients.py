"""Client records: search, one client with every case of theirs, create, correct, link a case."""

from __future__ import annotations

from engine.clients import KYC_INTERVALS
from engine.errors import InvalidClientData
from flask import Blueprint, flash, redirect, render_template, request, url_for

from webapp.extensions import get_engine
from webapp.web.access import log_access
from webapp.web.auth import acting_user, require_login, role_required
from webapp.web.views.client_forms import CHANNEL_NAMES, ClientForm, LinkCaseForm
from webapp.web.views.inbox import page_args

bp = Blueprint("clients", __name__)
require_login(bp)

# Staff who deal with clients (Admin has every role).
CLIENT_STAFF = ("Customer Care Agent", "Relationship Manager", "Onboarding Officer", "Compliance Officer",
                "Supervisor", "Manager")


def _attach(form: ClientForm, error: InvalidClientData) -> None:
    for name, messages in error.errors.items():
        target = getattr(form, name, None)
        if target is not None:
            target.errors = [*(target.errors or []), *messages]
        else:
            flash(f"{name}: {', '.join(messages)}", "error")


@bp.get("/clients/")
@role_required(*CLIENT_STAFF)
def index():
    q = (request.args.get("q") or "").strip()
    page, size, offset = page_args()
    rows = get_engine().clients.search(q or None, limit=size + 1, offset=offset)
    return render_template("clients/index.html", clients=rows[:size], has_next=len(rows) > size, page=page, q=q)


@bp.route("/clients/new", methods=["GET", "POST"])
@role_required(*CLIENT_STAFF)
def create():
    form = ClientForm()
    if form.validate_on_submit():
        try:
            client = get_engine().clients.create(form.values(), by=acting_user())
        except InvalidClientData as err:
            _attach(form, err)
        else:
            flash(f"Client {client.name} created.", "success")
            return redirect(url_for("clients.show", client_id=client.id))
    return render_template("clients/edit.html", form=form, client=None), 422 if form.errors else 200


@bp.route("/clients/<int(max=2147483647):client_id>", methods=["GET", "POST"])
@role_required(*CLIENT_STAFF)
def show(client_id: int):
    engine = get_engine()
    client = engine.clients.get(client_id)
    form = ClientForm(data=client.as_dict())
    if form.validate_on_submit():
        try:
            client = engine.clients.correct(client_id, form.values(), by=acting_user())
        except InvalidClientData as err:
            _attach(form, err)
        else:
            flash("Client record corrected: every case of this client uses the new details.", "success")
            return redirect(url_for("clients.show", client_id=client_id))
    cases = engine.clients.cases(client_id)
    log_access("view_client", subjects=[c.instance_id for c in cases], why=f"client record {client_id}")
    return render_template("clients/show.html", client=client, form=form, cases=cases, link_form=LinkCaseForm(),
                           sla=engine.clients.agreed_sla(client_id), channels=CHANNEL_NAMES,
                           kyc_intervals=KYC_INTERVALS), \
        422 if form.errors else 200


@bp.post("/clients/<int(max=2147483647):client_id>/cases")
@role_required(*CLIENT_STAFF)
def link_case(client_id: int):
    engine = get_engine()
    form = LinkCaseForm()
    if form.validate_on_submit():
        case = engine.instance_by_reference(form.reference.data.strip().upper())
        engine.clients.link(case.id, client_id, by=acting_user())
        flash(f"{case.reference} is now a case of this client.", "success")
    else:
        flash("Give the reference of the case to link.", "error")
    return redirect(url_for("clients.show", client_id=client_id))
