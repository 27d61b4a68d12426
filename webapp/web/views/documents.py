"""Case documents: the upload fields of a task page, and serving a document to those who may see its case."""

from __future__ import annotations

from engine.clients.documents import DOCUMENT_KEYWORD, KINDS, MAX_BYTES
from engine.errors import InvalidInput, NotFound
from engine.results import TaskView
from flask import Blueprint, Response, abort, request
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from webapp.extensions import get_engine
from webapp.web.auth import require_login
from webapp.web.views.casework import sees_personal

bp = Blueprint("documents", __name__, url_prefix="/documents")
require_login(bp)


def upload_fields(task: TaskView) -> list[tuple[str, str, str]]:
    """(field, kind, label) of each document field of the task's form (`x-document`)."""
    schema = (task.form or {}).get("schema") or {}
    return [(name, prop[DOCUMENT_KEYWORD], prop.get("title") or KINDS.get(prop[DOCUMENT_KEYWORD], name))
            for name, prop in (schema.get("properties") or {}).items()
            if isinstance(prop, dict) and prop.get(DOCUMENT_KEYWORD)]


def with_uploads(task: TaskView) -> tuple[MultiDict, list[str]]:
    """The posted form with each uploaded file stored and its field set to the new reference; upload problems."""
    formdata, problems = MultiDict(request.form), []
    for name, kind, label in upload_fields(task):
        upload = request.files.get(f"{name}__file")
        if upload is None or not upload.filename:
            continue
        try:
            stored = get_engine().documents.upload(task.instance_id, kind, upload.filename,
                                                   upload.stream.read(MAX_BYTES + 1),
                                                   request.form.get(f"{name}__expires"), current_user.username)
        except InvalidInput as err:
            problems.append(f"{label}: {err}.")
            continue
        formdata.setlist(name, [stored.reference])
    return formdata, problems


def case_documents(instance_id: int) -> list:
    """The case's documents for the task page, or [] when the user may not see its personal data."""
    return get_engine().documents.of_instance(instance_id) if sees_personal(instance_id) else []


@bp.get("/<int:document_id>")
def download(document_id: int):
    try:
        document = get_engine().documents.get(document_id)
    except NotFound:
        abort(404)
    if not sees_personal(document.instance_id):
        abort(403, description="This document belongs to a case whose personal data you may not see.")
    document, content = get_engine().documents.open(document_id, by=current_user.username)
    name = document.filename or f"{document.kind}-{document.id}"
    return Response(content, mimetype=document.content_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store"})
