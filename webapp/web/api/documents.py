"""Case-file endpoints: list a case's documents and attachments, upload one (multipart), download one."""

from __future__ import annotations

from engine.clients.documents import ATTACHMENT
from engine.errors import InstanceNotFound, InvalidInput, NotAllowed
from flask import g, jsonify, request, url_for

from webapp.extensions import get_engine
from webapp.web.api.blueprint import bp
from webapp.web.api.document_docs import MAX_ID, UPLOAD
from webapp.web.api.routes import checked_task_id, in_token_scope
from webapp.web.views.casework import sees_personal
from webapp.web.views.documents import file_response, read

FIELDS = set(UPLOAD["properties"])


def _may_see(instance_id: int) -> None:
    if instance_id > MAX_ID:
        raise InstanceNotFound(f"no instance with id {instance_id}")
    in_token_scope(instance_id)
    if not sees_personal(instance_id):
        raise NotAllowed(f"{g.api_user.username} may not see the personal data of case {instance_id}, so not its "
                         "files either")


# (`int` without a limit, checked in `_may_see`: with a converter limit on two rules of one path, werkzeug answers
# an id over the column's range with 405 instead of 404)
@bp.get("/instances/<int:instance_id>/documents")
def case_files(instance_id: int):
    _may_see(instance_id)
    return jsonify({"documents": [d.as_dict() for d in get_engine().documents.of_instance(instance_id)]})


@bp.post("/instances/<int:instance_id>/documents")
def upload_case_file(instance_id: int):
    _may_see(instance_id)
    unknown = sorted((set(request.form) | set(request.files)) - FIELDS)
    if unknown:
        raise InvalidInput(f"unknown field(s) {', '.join(unknown)}; a multipart form takes "
                           f"{', '.join(sorted(FIELDS))}")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("send the file as the multipart field `file` (with a file name)")
    task_id = request.form.get("task_id")
    stored = get_engine().documents.upload(
        instance_id, request.form.get("kind") or ATTACHMENT, upload.filename, read(upload),
        request.form.get("expires_on"), g.api_user.username, task_id=checked_task_id(task_id) if task_id else None)
    return jsonify(stored.as_dict()), 201, {"Location": url_for("api.case_file", document_id=stored.id)}


@bp.get("/documents/<int(max=2147483647):document_id>")
def case_file(document_id: int):
    _may_see(get_engine().documents.get(document_id).instance_id)
    return file_response(document_id, by=g.api_user.username)
