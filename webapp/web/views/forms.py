"""The web app's own WTForms forms (task forms come from the engine's form builder)."""

from __future__ import annotations

import json

from engine.core.passwords import MIN_LENGTH
from engine.core.tokens import DEFAULT_DAYS, DEFAULT_SCOPES, MAX_DAYS, SCOPES
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class LoginForm(FlaskForm):
    username = StringField("User name", validators=[DataRequired(), Length(max=80)],
                           render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField("Password", validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})


class CodeForm(FlaskForm):
    code = StringField("Code from your authenticator app", validators=[DataRequired(), Length(max=12)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True})


class ActionForm(FlaskForm):
    """A button-only form: carries the CSRF token."""


class CancelForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[DataRequired(), Length(max=500)])


class JsonDataForm(FlaskForm):
    """Task data as a JSON object, for tasks without a form definition."""

    data = TextAreaField("Task data (JSON object)", default="{}", render_kw={"rows": 8, "spellcheck": "false"})

    def validate_data(self, field) -> None:
        try:
            value = json.loads(field.data or "{}")
        except json.JSONDecodeError as err:
            raise ValidationError(f"not valid JSON: {err.msg} (line {err.lineno}, column {err.colno})") from err
        if not isinstance(value, dict):
            raise ValidationError("must be a JSON object, e.g. {\"approved\": true}")

    def task_data(self) -> dict:
        return json.loads(self.data.data or "{}")


class DecisionForm(FlaskForm):
    """A sign-off decision, for a compliance task whose model names no form: a reason is needed unless approving."""

    decision = RadioField("Decision", choices=[("approve", "Approve"), ("reject", "Reject"),
                                               ("more_info", "Request more information")],
                          validators=[DataRequired(message="Choose a decision.")])
    reason = TextAreaField("Reason", validators=[Length(max=2000)], render_kw={"rows": 4})

    def validate_reason(self, field) -> None:
        if self.decision.data in ("reject", "more_info") and not (field.data or "").strip():
            raise ValidationError("A reason is required to reject or to ask for more information.")

    def task_data(self) -> dict:
        return {"decision": self.decision.data, "reason": (self.reason.data or "").strip()}


class UserForm(FlaskForm):
    username = StringField("User name", validators=[DataRequired(), Length(min=2, max=80)],
                           render_kw={"autocomplete": "off"})
    display_name = StringField("Display name", validators=[Optional(), Length(max=120)])
    email = EmailField("Email", validators=[Optional(), Length(max=255),
                                            Regexp(EMAIL, message="Not an email address.")])
    roles = StringField("Roles", description="Comma separated; a role is a BPMN lane name, e.g. Compliance Officer.")
    password = PasswordField("New password", validators=[Optional(), Length(min=MIN_LENGTH)],
                             description=f"At least {MIN_LENGTH} characters, not a common password (a few words "
                                         "make a good one). Leave empty to keep the current one.",
                             render_kw={"autocomplete": "new-password"})

    def role_list(self) -> list[str]:
        return [r.strip() for r in (self.roles.data or "").split(",") if r.strip()]


class TokenForm(FlaskForm):
    name = StringField("Token label", validators=[Optional(), Length(max=80)], description="e.g. mail gateway")
    scopes = SelectMultipleField("Scopes", choices=[(s, s) for s in SCOPES], default=list(DEFAULT_SCOPES),
                                 validators=[Optional()],
                                 description="read: see; work: claim and complete tasks; start: start processes; "
                                             "admin: cancel and retry. None chosen: read, work, start.")
    days = IntegerField("Valid for (days)", default=DEFAULT_DAYS, validators=[Optional(), NumberRange(1, MAX_DAYS)])
    processes = StringField("Only these processes", validators=[Optional(), Length(max=500)],
                            description="Comma separated process keys; empty for every process.")

    def process_list(self) -> list[str]:
        return [k.strip() for k in (self.processes.data or "").split(",") if k.strip()]
