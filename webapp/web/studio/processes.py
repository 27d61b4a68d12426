"""Studio pages about whole processes: the list, one process's versions, new, import and export."""

from __future__ import annotations

import io
import re

from engine.core.archive import MAX_UPLOAD_BYTES, read_upload, to_zip
from engine.errors import InvalidInput, InvalidModel
from engine.studio.drafts import blank_bundle
from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from webapp.extensions import get_engine
from webapp.web.studio.blueprint import bp
from webapp.web.studio.bundles import versions_of
from webapp.web.studio.inputs import ImportForm, MigrateForm, NewProcessForm


def _index_page(status: int = 200, new_form=None, import_form=None, error: str | None = None):
    engine = get_engine()
    latest = engine.processes()
    return render_template("studio/index.html", processes=latest,
                           counts={p.key: sum(engine.running_counts(p.key).values()) for p in latest},
                           drafts=engine.drafts(current_user.username), new_form=new_form or NewProcessForm(),
                           import_form=import_form or ImportForm(), error=error), status


@bp.get("/")
def index():
    return _index_page()


@bp.get("/processes/<key>")
def process(key: str):
    engine = get_engine()
    versions = versions_of(key)
    latest = versions[0].version
    behind = [i for i in engine.list_instances(key=key, status="running", limit=500) if i.version < latest]
    return render_template("studio/process.html", key=key, versions=versions, latest=latest,
                           counts=engine.running_counts(key), behind=behind,
                           draft=engine.draft(key, current_user.username), migrate_form=MigrateForm(to_version=latest))


@bp.get("/processes/<key>/versions/<int(max=2147483647):version>.zip")
def export(key: str, version: int):
    data = to_zip(get_engine().definition_files(key, version))
    return send_file(io.BytesIO(data), mimetype="application/zip", as_attachment=True,
                     download_name=f"{key}-v{version}.zip")


@bp.post("/new")
def new():
    form = NewProcessForm()
    if not form.validate():
        return _index_page(422, new_form=form)
    engine, key = get_engine(), form.key.data
    if any(p.key == key for p in engine.processes()) or engine.draft(key, current_user.username):
        form.key.errors.append(f"A process or draft with the key {key!r} exists already: open it instead.")
        return _index_page(409, new_form=form)
    engine.save_draft(key, current_user.username, blank_bundle(key, form.name.data or ""))
    return redirect(url_for("studio.edit", key=key), 303)


@bp.post("/import")
def upload():
    form = ImportForm()
    if request.content_length and request.content_length > MAX_UPLOAD_BYTES + 64 * 1024:
        abort(413, description=f"The upload is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    if not form.validate():
        return _index_page(422, import_form=form)
    upload = form.file.data
    try:
        files = read_upload(upload.filename or "", upload.stream.read(MAX_UPLOAD_BYTES + 1))
        key = form.key.data or _key_from(files)
        if form.deploy.data:
            return _deploy_upload(files, key)
        get_engine().save_draft(key, current_user.username, files)
    except (InvalidModel, InvalidInput) as err:
        return _index_page(422, import_form=form, error=f"The upload was refused: {err}")
    flash(f"Imported {len(files)} file(s) as your draft of {key}: validate and deploy when ready.", "success")
    return redirect(url_for("studio.edit", key=key), 303)


def _deploy_upload(files: dict[str, str], key: str):
    engine = get_engine()
    errors = [f for f in engine.validate_files(files, key) if f.severity == "error"]
    if errors:
        raise InvalidModel("; ".join(f"{f.element_id or f.file or 'bundle'}: {f.message}" for f in errors),
                           problems=[f.as_dict() for f in errors])
    result = engine.deploy_files(files, key, by=current_user.username)
    flash(f"Deployed {key} version {result.version}." if result.created else
          f"Nothing changed: version {result.version} is the same.", "success")
    return redirect(url_for("studio.process", key=key), 303)


def _key_from(files: dict[str, str]) -> str:
    first = sorted(n for n in files if n.endswith(".bpmn"))[0]
    return re.sub(r"[^a-z0-9_-]", "_", first.rsplit(".", 1)[0].lower()).lstrip("_-0123456789") or "process"
