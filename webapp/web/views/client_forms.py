"""The client record's web forms; the engine checks the values again (engine/clients/records.py)."""

from __future__ import annotations

from engine.clients import CHANNELS, KINDS, LABELS
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

CHANNEL_NAMES = {"email": "E-mail", "phone": "Phone", "in_person": "In person", "post": "Post"}
STATUS_NAMES = {"prospect": "Prospect (onboarding)", "active": "Active", "inactive": "Inactive"}


class ClientForm(FlaskForm):
    kind = SelectField(LABELS["kind"], choices=[(k, k.capitalize()) for k in KINDS])
    name = StringField(LABELS["name"], validators=[DataRequired(), Length(max=200)])
    registration_number = StringField(LABELS["registration_number"], validators=[Optional(), Length(max=40)],
                                      description="For an organisation: the CIPC number, e.g. 2019/123456/07.")
    contact_name = StringField(LABELS["contact_name"], validators=[Optional(), Length(max=120)])
    email = EmailField(LABELS["email"], validators=[Optional(), Length(max=254)])
    phone = StringField(LABELS["phone"], validators=[Optional(), Length(max=30)])
    preferred_channel = SelectField(LABELS["preferred_channel"], choices=[(c, CHANNEL_NAMES[c]) for c in CHANNELS])
    consent_surveys = BooleanField(LABELS["consent_surveys"], default=True)
    consent_marketing = BooleanField(LABELS["consent_marketing"])
    relationship_manager = StringField(LABELS["relationship_manager"], validators=[Optional(), Length(max=120)])
    relationship_manager_email = EmailField(LABELS["relationship_manager_email"],
                                            validators=[Optional(), Length(max=254)])
    sla_response_hours = IntegerField(LABELS["sla_response_hours"], validators=[Optional(), NumberRange(1, 72)])
    sla_resolution_days = IntegerField(LABELS["sla_resolution_days"], validators=[Optional(), NumberRange(1, 30)])
    status = SelectField(LABELS["status"], choices=list(STATUS_NAMES.items()))

    def values(self) -> dict:
        """The record fields as the engine takes them (blank text is no value)."""
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}


class LinkCaseForm(FlaskForm):
    reference = StringField("Case reference", validators=[DataRequired(), Length(max=40)],
                            description="e.g. CMP-2026-000123: the case is linked to this client.")
