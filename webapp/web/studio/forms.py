"""The form editor: a form's JSON schema with a live preview built by the same WTForms builder staff see."""

from __future__ import annotations

import json

from engine.core.archive import check_name
from engine.errors import InvalidInput, InvalidModel
from engine.studio.drafts import check_key
from flask import jsonify, render_template, request
from flask_login import current_user

from webapp.extensions import get_engine
from webapp.web.studio.blueprint import bp
from webapp.web.studio.bundles import json_body, model_error, working_bundle

NEW_FORM = {"title": "New form", "type": "object", "required": ["comment"],
            "properties": {"comment": {"type": "string", "title": "Comment", "maxLength": 2000}}}


@bp.get("/processes/<key>/forms/<name>")
def form(key: str, name: str):
    bundle = working_bundle(check_key(key))
    if not check_name(name).endswith(".json"):
        raise InvalidModel("the form editor edits .json form files", file=name)
    text = bundle.files.get(name) or json.dumps(NEW_FORM, indent=2)
    ui_name = request.args.get("ui") or _ui_partner(bundle.files, name)
    return render_template("studio/form.html", bundle=bundle, name=name, text=text, is_new=name not in bundle.files,
                           ui_name=ui_name, ui_text=bundle.files.get(ui_name, "") if ui_name else "")


@bp.post("/forms/preview")
def preview():
    body = json_body()
    try:
        schema, ui = _parse(body.get("schema"), "form schema"), _parse(body.get("ui"), "UI schema", optional=True)
        form_class = get_engine().forms.form_class(schema, ui)
    except (InvalidModel, InvalidInput) as err:
        return model_error(err)
    rendered = form_class(data=get_engine().forms.initial_data(schema, {}))
    return jsonify({"html": render_template("studio/_preview.html", form=rendered)})


@bp.post("/processes/<key>/forms/<name>")
def save_form(key: str, name: str):
    body, engine = json_body(), get_engine()
    try:
        bundle = working_bundle(check_key(key))
        schema, ui = _parse(body.get("schema"), "form schema"), _parse(body.get("ui"), "UI schema", optional=True)
        engine.forms.form_class(schema, ui)
        files = {**bundle.files, check_name(name): json.dumps(schema, indent=2) + "\n"}
        if ui is not None:
            files[check_name(str(body.get("ui_name") or ""))] = json.dumps(ui, indent=2) + "\n"
        draft = engine.save_draft(key, current_user.username, files, bundle.base_version)
    except (InvalidModel, InvalidInput) as err:
        return model_error(err)
    return jsonify({"saved_at": draft.updated_at.isoformat(), "files": sorted(draft.files)})


def _parse(text, what: str, optional: bool = False):
    if optional and (text is None or (isinstance(text, str) and not text.strip())):
        return None
    if not isinstance(text, str):
        raise InvalidInput(f"the {what} must be sent as JSON text")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidModel(f"the {what} is not valid JSON: {err.msg} (line {err.lineno}, column {err.colno})") \
            from err


def _ui_partner(files: dict[str, str], name: str) -> str | None:
    """A UI schema named after the form (`x.ui.json` or `x_ui.json`), if the bundle has one."""
    stem = name[:-len(".json")]
    return next((n for n in (f"{stem}.ui.json", f"{stem}_ui.json", f"{stem}-ui.json") if n in files), None)
