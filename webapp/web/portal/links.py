"""Portal pages behind signed one-time links: the satisfaction survey and a reply into a waiting case."""

from __future__ import annotations

from engine import portal
from engine.errors import (
    ConcurrentUpdate,
    InstanceNotFound,
    InstanceNotRunning,
    InvalidTaskData,
    MessageNotCorrelated,
    ProcessNotFound,
)
from engine.forms.builder import form_json
from flask import render_template, request

from webapp import signing
from webapp.extensions import get_engine
from webapp.web.notice import notice_for, responsible_party
from webapp.web.portal import limits
from webapp.web.portal.blueprint import bp
from webapp.web.portal.forms import ReplyForm, client_fields, client_formdata

REFUSALS = {
    "invalid": ("This link does not work", "The link is incomplete or was changed. Please use the link exactly as "
                                           "it appears in our e-mail.", 404),
    "expired": ("This link has expired", "Links in our e-mails work for a limited time. Nothing was changed. If "
                                         "you still want to reach us, use the contact details in the e-mail.", 410),
    "used": ("This link has been used already", "Each link works once, and this one has been used. Nothing was "
                                                "changed. Thank you for your answer.", 410),
    "answered": ("Nothing is waiting for an answer", "This request has been answered or closed already. Nothing "
                                                     "was changed.", 410),
    "busy": ("Please send it again", "Your case was being updated at the same moment, so nothing was saved. Go "
                                     "back and send your answer again.", 409),
}


def refused(reason: str):
    title, message, status = REFUSALS[reason]
    return render_template("portal/refused.html", title=title, message=message), status


def _open_link(purpose: str, token: str) -> signing.Link:
    limits.check("link", limits.client_address())
    return signing.read_token(purpose, token)


@bp.route("/survey/<token>", methods=["GET", "POST"])
def survey(token: str):
    try:
        link = _open_link(signing.SURVEY, token)
        contact, _ = portal.view(get_engine(), link.instance_id)
        form_class, defaults = get_engine().start_form(link.target)
    except signing.LinkRefused as err:
        return refused(err.reason)
    except (InstanceNotFound, ProcessNotFound):
        return refused("invalid")
    if form_class is None:  # the survey process lost its start form in a later version
        return refused("invalid")
    fixed = {"about_reference": contact.reference, "client_name": contact.name, "client_email": contact.email}
    if request.method == "GET":
        return _survey_page(form_class(data=defaults), contact, fixed, link.target)
    form = form_class(formdata=client_formdata(form_class, request.form, fixed))
    if not form.validate():
        return _survey_page(form, contact, fixed, link.target, 422)
    return _act(link, lambda: portal.start(get_engine(), link.target, form_json(form)),
                lambda problems: _survey_page(form, contact, fixed, link.target, 422, problems))


def _survey_page(form, contact, fixed, key: str, status: int = 200, problems: list[str] | None = None):
    return render_template("portal/survey.html", form=form, fields=client_fields(form, fixed),
                           reference=contact.reference, problems=problems or [],
                           notice=notice_for(key), responsible_party=responsible_party()), status


@bp.route("/reply/<token>", methods=["GET", "POST"])
def reply(token: str):
    engine = get_engine()
    try:
        link = _open_link(signing.REPLY, token)
        if link.target not in portal.waiting_messages(engine, link.instance_id):
            return refused("answered")
        reference = engine.instance(link.instance_id).reference
    except signing.LinkRefused as err:
        return refused(err.reason)
    except InstanceNotFound:
        return refused("invalid")
    form = ReplyForm()
    if request.method == "GET" or not form.validate():
        status = 422 if request.method == "POST" else 200
        return render_template("portal/reply.html", form=form, reference=reference), status
    payload = {"message": form.message.data, "sent_at": engine.clock.now().isoformat()}
    return _act(link, lambda: portal.send_message(engine, link.target, reference, payload),
                lambda problems: (render_template("portal/reply.html", form=form, reference=reference,
                                                  problems=problems), 422))


def _act(link: signing.Link, action, on_invalid):
    """Use the link once: claim it, act through the engine, and give it back if the engine refused."""
    try:
        signing.claim(link)
    except signing.LinkRefused as err:
        return refused(err.reason)
    try:
        action()
    except Exception as err:
        signing.release(link)
        if isinstance(err, InvalidTaskData):
            return on_invalid([m for msgs in err.errors.values() for m in msgs])
        if isinstance(err, ConcurrentUpdate):
            return refused("busy")
        if isinstance(err, MessageNotCorrelated | InstanceNotRunning):
            return refused("answered")
        raise
    return render_template("portal/thanks.html", purpose=link.purpose)
