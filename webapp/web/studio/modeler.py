"""The modeler: edit a process's bundle in the browser, keep it as a draft, validate it, deploy it."""

from __future__ import annotations

from engine.errors import InvalidInput, InvalidModel
from engine.studio.drafts import check_key
from flask import flash, jsonify, redirect, render_template, url_for
from flask_login import current_user

from webapp.extensions import get_engine
from webapp.web.studio.blueprint import bp
from webapp.web.studio.bundles import base_version_of, files_of, json_body, model_error, working_bundle


@bp.get("/processes/<key>/edit")
def edit(key: str):
    bundle = working_bundle(check_key(key))
    return render_template("studio/modeler.html", bundle=bundle,
                           findings=[f.as_dict() for f in get_engine().validate_files(bundle.files, key)])


@bp.post("/processes/<key>/draft")
def save_draft(key: str):
    body = json_body()
    try:
        draft = get_engine().save_draft(check_key(key), current_user.username, files_of(body), base_version_of(body))
    except (InvalidModel, InvalidInput) as err:
        return model_error(err)
    return jsonify({"saved_at": draft.updated_at.isoformat(), "files": sorted(draft.files)})


@bp.post("/processes/<key>/draft/discard")
def discard_draft(key: str):
    if get_engine().discard_draft(key, current_user.username):
        flash(f"Your draft of {key} was discarded.", "success")
    return redirect(url_for("studio.index"), 303)


@bp.post("/processes/<key>/validate")
def validate(key: str):
    try:
        findings = get_engine().validate_files(files_of(json_body()), check_key(key))
    except (InvalidModel, InvalidInput) as err:
        return model_error(err)
    return jsonify(_report(findings))


@bp.post("/processes/<key>/deploy")
def deploy(key: str):
    engine = get_engine()
    try:
        files = files_of(json_body())
        findings = engine.validate_files(files, check_key(key))
        if any(f.severity == "error" for f in findings):
            return jsonify({**_report(findings), "error": {"status": 422, "message": "Fix the errors before "
                                                                                       "deploying."}}), 422
        result = engine.deploy_files(files, key, by=current_user.username)
    except (InvalidModel, InvalidInput) as err:
        return model_error(err)
    engine.discard_draft(key, current_user.username)
    return jsonify({**result.as_dict(), **_report(findings), "url": url_for("studio.process", key=key)})


def _report(findings) -> dict:
    return {"findings": [f.as_dict() for f in findings],
            "errors": sum(f.severity == "error" for f in findings),
            "warnings": sum(f.severity == "warning" for f in findings)}
