"""The studio's own WTForms forms (new process, upload, migration)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

KEY_PATTERN = r"^[a-z][a-z0-9_-]{0,119}$"
KEY_HELP = "Lower-case letters, digits, _ or -, starting with a letter (e.g. complaint_handling)."


class NewProcessForm(FlaskForm):
    key = StringField("Process key", description=KEY_HELP,
                      validators=[DataRequired(), Length(max=120), Regexp(KEY_PATTERN, message=KEY_HELP)])
    name = StringField("Name", validators=[Optional(), Length(max=200)])


class ImportForm(FlaskForm):
    file = FileField("BPMN file or zip", description="A .bpmn file, or a .zip with .bpmn, .dmn and form .json files.",
                     validators=[FileRequired("Choose a .bpmn or .zip file.")])
    # Its own id: the studio page also has the new-process form's `key` field.
    key = StringField("Process key", description="Leave empty to use the BPMN file's name.", id="import-key",
                      validators=[Optional(), Length(max=120), Regexp(KEY_PATTERN, message=KEY_HELP)])
    deploy = BooleanField("Deploy right away (otherwise it opens as a draft in the modeler)")


class MigrateForm(FlaskForm):
    to_version = IntegerField("Move to version", validators=[DataRequired(), NumberRange(min=1)])
    instances = SelectMultipleField("Instances", coerce=int, validate_choice=False)
