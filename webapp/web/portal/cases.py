"""Portal pages for cases: the start page, logging a complaint or suggestion, tracking a case, and saying that a
resolved case is not resolved."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac

from engine import portal
from engine.errors import ConcurrentUpdate, InstanceNotRunning, InvalidTaskData, MessageNotCorrelated, ProcessNotFound
from engine.forms.builder import form_json
from flask import abort, redirect, render_template, request, session, url_for

from webapp.extensions import get_engine
from webapp.web.notice import notice_for, responsible_party
from webapp.web.portal import limits
from webapp.web.portal.blueprint import bp
from webapp.web.portal.forms import (
    WEBSITE,
    NotResolvedForm,
    TrackForm,
    client_fields,
    client_formdata,
    contact_field,
    intakes,
    require_contact,
)
from webapp.web.portal.hours import office_hours

# The message a model waits for (a boundary event on its follow-up step) when the client may say "not resolved".
NOT_RESOLVED = "client_not_resolved"
# The reference whose owner this browser session proved (reference and e-mail on the track page).
TRACKED = "portal_tracked"
NOT_FOUND = ("We could not find a case with that reference number and e-mail address. Check both and try again; "
             "use the e-mail address you gave us when you contacted us.")


@bp.get("/")
def index():
    return render_template("portal/index.html", intakes=intakes().values())


def _intake(slug: str):
    intake = intakes().get(slug)
    if intake is None:
        abort(404)
    try:
        form_class, defaults = get_engine().start_form(intake.key)
    except ProcessNotFound:
        abort(404)
    if form_class is None:
        abort(404)
    return intake, form_class, defaults


@bp.route("/<slug>/new", methods=["GET", "POST"])
def log(slug: str):
    intake, form_class, defaults = _intake(slug)
    if request.method == "GET":
        return _log_page(intake, form_class(data=defaults))
    limits.check("submit", limits.client_address())
    form = form_class(formdata=client_formdata(form_class, request.form, WEBSITE))
    valid = form.validate()
    if intake.email_required:
        valid = require_contact(form, WEBSITE) and valid
    if not valid:
        return _log_page(intake, form, 422)
    try:
        instance = portal.start(get_engine(), intake.key, form_json(form))
    except InvalidTaskData as err:
        return _log_page(intake, form, 422, [m for msgs in err.errors.values() for m in msgs])
    session["portal_received"] = {"reference": instance.reference, "slug": slug}
    return redirect(url_for("portal.received"), 303)


def _log_page(intake, form, status: int = 200, problems: list[str] | None = None):
    notice = notice_for(intake.key)
    contact = contact_field(form, WEBSITE) if intake.email_required else None
    if contact is not None:
        contact.flags.required = True  # marked (and announced) as required like the form's own required fields
        if notice is not None and contact.label.text not in notice.required:  # and the notice says we need it
            notice = dataclasses.replace(notice, required=(*notice.required, contact.label.text))
    return render_template("portal/new.html", intake=intake, form=form, fields=client_fields(form, WEBSITE),
                           problems=problems or [], notice=notice, responsible_party=responsible_party()), status


@bp.get("/received")
def received():
    """After logging: the reference number on screen (kept in the session, so a reload shows it again)."""
    done = session.get("portal_received")
    if not done:
        return redirect(url_for("portal.index"))
    intake = intakes().get(done["slug"])
    return render_template("portal/received.html", reference=done["reference"], intake=intake)


@bp.route("/track", methods=["GET", "POST"])
def track():
    form = TrackForm(reference=request.args.get("reference", ""))
    if request.method == "GET":
        return render_template("portal/track.html", form=form, office=office_hours())
    limits.check("track", limits.client_address())
    if not form.validate():
        return render_template("portal/track.html", form=form), 422
    limits.check("reference", form.reference.data)
    found = portal.find(get_engine(), form.reference.data)
    if not _belongs_to(found, form.email.data):
        return render_template("portal/track.html", form=form, problem=NOT_FOUND), 404
    session[TRACKED] = found[0].reference
    return _status_page(found)


@bp.post("/track/not-resolved")
def not_resolved():
    """The client says a resolved case is not resolved: the case reopens with the client's reason."""
    limits.check("link", limits.client_address())
    form = NotResolvedForm()
    reference = form.reference.data if form.reference.validate(form) else None
    if not reference or session.get(TRACKED) != reference:
        return redirect(url_for("portal.track", reference=reference or ""), 303)  # prove the case is yours first
    found = portal.find(get_engine(), reference)
    if found is None:
        abort(404)
    if not form.validate():
        return _status_page(found, form, status=422)
    payload = {"reason": form.reason.data, "sent_at": get_engine().clock.now().isoformat()}
    try:
        portal.send_message(get_engine(), NOT_RESOLVED, reference, payload)
    except (MessageNotCorrelated, InstanceNotRunning):
        return _status_page(portal.find(get_engine(), reference), notice=NO_LONGER, status=409)
    except ConcurrentUpdate:
        return _status_page(found, form, notice=BUSY, status=409)
    return _status_page(portal.find(get_engine(), reference), notice=REOPENED)


REOPENED = "Thank you. We have reopened your case and will look into it again; we will keep you informed."
NO_LONGER = "Your case is no longer at a stage where it can be reopened here, so nothing was changed."
BUSY = "Your case was being updated at the same moment, so nothing was saved. Please send it again."


def _status_page(found, form: NotResolvedForm | None = None, notice: str | None = None, status: int = 200):
    """The case's status; while the case waits for the client's verdict, the "not resolved" form too."""
    contact, case = found
    engine = get_engine()
    if form is None and NOT_RESOLVED in portal.waiting_messages(engine, contact.instance_id):
        form = NotResolvedForm(formdata=None, reference=contact.reference)
    elif form is not None and NOT_RESOLVED not in portal.waiting_messages(engine, contact.instance_id):
        form = None
    return render_template("portal/status.html", case=case, office=office_hours(), not_resolved=form, notice=notice,
                           promise=engine.client_promise(contact.instance_id) if case.is_open else None), status


def _digest(email: str | None) -> bytes:
    return hashlib.sha256((email or "").strip().casefold().encode()).digest()


def _belongs_to(found, email: str) -> bool:
    """Compare in constant time, and as much work for an unknown reference as for a wrong address."""
    expected = found[0].email if found else None
    same = hmac.compare_digest(_digest(email), _digest(expected))
    return bool(found and expected and same)
