"""The portal's forms: its own (track, reply, not resolved) and the client's share of a process's start form."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
REFERENCE = r"^[A-Z0-9]{1,10}-\d{4}-\d{6}$"
# Set by the portal whatever the client sends: the policies call this intake channel "website".
WEBSITE = {"channel": "website"}


@dataclass(frozen=True)
class Intake:
    """A process clients may start on the portal."""

    slug: str
    key: str
    title: str
    email_required: bool


DEFAULT_INTAKES = {
    "complaint": {"key": "complaint_handling", "title": "Log a complaint", "email_required": True},
    "suggestion": {"key": "suggestion", "title": "Make a suggestion", "email_required": False},
}


def intakes() -> dict[str, Intake]:
    """The processes on offer (PORTAL_INTAKES overrides the shipped complaint and suggestion intakes)."""
    configured = current_app.config.get("PORTAL_INTAKES") or DEFAULT_INTAKES
    return {slug: Intake(slug, **spec) for slug, spec in configured.items()}


def _upper(value):
    return value.strip().upper() if isinstance(value, str) else value


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class TrackForm(FlaskForm):
    reference = StringField("Reference number", filters=[_upper],
                            validators=[DataRequired(message="Enter your reference number."),
                                        Regexp(REFERENCE, message="A reference number looks like CMP-2026-000123.")],
                            render_kw={"autocomplete": "off", "spellcheck": "false"})
    email = EmailField("E-mail address you gave us", filters=[_strip],
                       validators=[DataRequired(message="Enter your e-mail address."), Length(max=254),
                                   Regexp(EMAIL, message="Enter an e-mail address, like name@example.com.")],
                       render_kw={"autocomplete": "email"})


class ReplyForm(FlaskForm):
    message = TextAreaField("Your answer", filters=[_strip],
                            validators=[DataRequired(message="Write your answer."), Length(max=4000)],
                            render_kw={"rows": 8})


class NotResolvedForm(FlaskForm):
    reference = HiddenField(filters=[_upper], validators=[DataRequired(), Regexp(REFERENCE)])
    reason = TextAreaField("What is still wrong?", filters=[_strip],
                           validators=[DataRequired(message="Tell us what is still wrong, so we can put it right."),
                                       Length(min=10, max=2000, message="Write between 10 and 2000 characters.")],
                           render_kw={"rows": 5})


def is_hidden(field) -> bool:
    return getattr(field.widget, "input_type", None) == "hidden" or bool((field.render_kw or {}).get("readonly"))


def client_fields(form, fixed: dict) -> list:
    """The fields a client fills in: not hidden, not read-only (they show process data), not set by the portal."""
    return [f for f in form if not is_hidden(f) and f.name not in fixed]


def client_formdata(form_class, posted: MultiDict, fixed: dict) -> MultiDict:
    """The posted values of the client's fields only, plus the portal's fixed values."""
    blank = form_class()
    allowed = {f.name for f in client_fields(blank, fixed)}
    data = MultiDict()
    for key in posted:
        if key.split("-", 1)[0] in allowed:
            data.setlist(key, posted.getlist(key))
    for name, value in fixed.items():
        if value is not None and name in blank._fields:
            data[name] = str(value)
    return data


def contact_field(form, fixed: dict):
    """The client's e-mail field of a start form (its first e-mail field), or None."""
    return next((f for f in client_fields(form, fixed) if f.type == "EmailField"), None)


def require_contact(form, fixed: dict) -> bool:
    """Add an error when the e-mail field is blank: a client who cannot be told the reference cannot track it."""
    field = contact_field(form, fixed)
    if field is None or (field.data or "").strip():
        return True
    field.errors = [*field.errors, "We need your e-mail address to send you the reference number and updates."]
    return False
