"""Case files: the document fields and attachments of a task page, attaching a file to a case, and serving a file
to those who may see its case."""

from __future__ import annotations

import io

from engine.clients.documents import DOCUMENT_KEYWORD, KINDS
from engine.errors import ClientflowError, InvalidInput, NotFound
from engine.results import TaskView
from flask import Blueprint, Response, abort, flash, redirect, request, send_file, url_for
from flask_login import current_user
from werkzeug.datastructures import FileStorage, MultiDict

from webapp.extensions import get_engine
from webapp.web.auth import require_login
from webapp.web.views.casework import sees_personal

bp = Blueprint("documents", __name__, url_prefix="/documents")
require_login(bp)
ATTACHMENTS_FIELD = "attachments__files"
MAX_FILES = 10  # attachments in one submission


def upload_fields(task: TaskView) -> list[tuple[str, str, str]]:
    """(field, kind, label) of each document field of the task's form (`x-document`)."""
    schema = (task.form or {}).get("schema") or {}
    return [(name, prop[DOCUMENT_KEYWORD], prop.get("title") or KINDS.get(prop[DOCUMENT_KEYWORD], name))
            for name, prop in (schema.get("properties") or {}).items()
            if isinstance(prop, dict) and prop.get(DOCUMENT_KEYWORD)]


def read(upload: FileStorage) -> bytes:
    """An uploaded file's bytes, read to one byte over the limit (so an oversized file is refused by size)."""
    return upload.stream.read(get_engine().documents.policy.max_bytes + 1)


def with_uploads(task: TaskView) -> tuple[MultiDict, list[str]]:
    """The posted form with each uploaded file stored and its field set to the new reference; upload problems."""
    formdata, problems = MultiDict(request.form), []
    for name, kind, label in upload_fields(task):
        upload = request.files.get(f"{name}__file")
        if upload is None or not upload.filename:
            continue
        try:
            stored = get_engine().documents.upload(task.instance_id, kind, upload.filename, read(upload),
                                                   request.form.get(f"{name}__expires"), current_user.username)
        except InvalidInput as err:
            problems.append(f"{label}: {err}.")
            continue
        formdata.setlist(name, [stored.reference])
    return formdata, problems + attach_files(task)


def attach_files(task: TaskView) -> list[str]:
    """Store the files posted as the task's attachments; a problem per refused file (the others are kept)."""
    uploads = [u for u in request.files.getlist(ATTACHMENTS_FIELD) if u.filename]
    if len(uploads) > MAX_FILES:
        return [f"Attach at most {MAX_FILES} files at a time; none of these was kept."]
    problems = []
    for upload in uploads:
        try:
            get_engine().documents.attach(task.instance_id, upload.filename, read(upload), current_user.username,
                                          task_id=task.id)
        except ClientflowError as err:
            problems.append(f"Attachment “{upload.filename}”: {err}.")
    return problems


def case_documents(instance_id: int) -> list:
    """The case's documents and attachments, or [] when the user may not see its personal data."""
    return get_engine().documents.of_instance(instance_id) if sees_personal(instance_id) else []


def upload_help(scans_only: bool = False) -> str:
    """What files an upload field takes, e.g. "PDF, PNG or JPEG, up to 5 MB each"."""
    return get_engine().documents.policy.describe(scans_only)


@bp.post("/cases/<int(max=2147483647):instance_id>")
def attach(instance_id: int):
    if not sees_personal(instance_id):
        abort(403, description="Only staff who may see this case's personal data may attach files to it.")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Choose a file to attach; nothing was saved.", "warning")
    else:
        try:
            get_engine().documents.attach(instance_id, upload.filename, read(upload), current_user.username)
        except ClientflowError as err:
            flash(f"The file was not attached: {err}.", "warning")
        else:
            flash(f"“{upload.filename}” is attached to the case.", "success")
    return redirect(url_for("instances.show", instance_id=instance_id) + "#attachments-title", 303)


@bp.get("/<int(max=2147483647):document_id>")
def download(document_id: int):
    try:
        document = get_engine().documents.get(document_id)
    except NotFound:
        abort(404)
    if not sees_personal(document.instance_id):
        abort(403, description="This file belongs to a case whose personal data you may not see.")
    return file_response(document_id, by=current_user.username)


def file_response(document_id: int, by: str) -> Response:
    """The file as a download (never shown inline, never cached); the read is audited as `by`'s."""
    document, content = get_engine().documents.open(document_id, by=by)
    response = send_file(io.BytesIO(content), mimetype=document.content_type, as_attachment=True,
                         download_name=document.filename or f"{document.kind}-{document.id}", max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
