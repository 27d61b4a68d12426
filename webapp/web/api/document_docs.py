"""The OpenAPI description of the case-file endpoints (webapp/web/api/documents.py)."""

from __future__ import annotations

from typing import Any

from engine.clients.documents import KINDS
from engine.clients.uploads import NAMES

MAX_ID = 2147483647
DOCUMENT = {
    "type": "object",
    "required": ["id", "reference", "instance_id", "kind", "label", "filename", "content_type", "size", "sha256",
                 "expires_on", "uploaded_by", "uploaded_at", "task_id", "task_name"],
    "properties": {
        "id": {"type": "integer"}, "reference": {"type": "string", "description": "`doc-<id>`, as form fields "
                                                                                 "marked `x-document` hold it"},
        "instance_id": {"type": "integer"}, "kind": {"type": "string", "enum": list(KINDS)},
        "label": {"type": "string"}, "filename": {"type": ["string", "null"]},
        "content_type": {"type": "string", "enum": list(NAMES)}, "size": {"type": "integer"},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "expires_on": {"type": ["string", "null"], "format": "date"},
        "uploaded_by": {"type": ["string", "null"]}, "uploaded_at": {"type": "string", "format": "date-time"},
        "task_id": {"type": ["string", "null"], "description": "The task an attachment was added on"},
        "task_name": {"type": ["string", "null"]}}}
UPLOAD = {
    "type": "object", "required": ["file"], "additionalProperties": False,
    "properties": {
        "file": {"type": "string", "contentMediaType": "application/octet-stream",
                 "description": "The file; its type is recognised from its content (see docs/api.md)"},
        "kind": {"type": "string", "enum": list(KINDS), "default": "attachment",
                 "description": "`attachment` (the default), or the kind of an onboarding document"},
        "expires_on": {"type": "string", "format": "date",
                       "description": "A document's expiry date (required for ID, registration, tax and bank "
                                      "letters; not given for an attachment)"},
        "task_id": {"type": "string", "format": "uuid", "description": "An open task of the case the file is "
                                                                        "added on"}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): {"$ref": f"#/components/responses/E{c}"} for c in codes}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def document_paths() -> dict[str, Any]:
    instance_id = {"name": "instance_id", "in": "path", "required": True, "description": "The case's id",
                   "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
    document_id = {"name": "document_id", "in": "path", "required": True, "description": "The file's id",
                   "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
    binary = {"type": "string", "contentMediaType": "application/octet-stream"}
    return {
        "/instances/{instance_id}/documents": {
            "get": {"operationId": "listCaseFiles",
                    "summary": "The documents and attachments of a case (for users who may see its personal data)",
                    "parameters": [instance_id],
                    "responses": {"200": _json({"type": "object", "required": ["documents"], "properties": {
                        "documents": {"type": "array", "items": DOCUMENT}}}, "The case's files, oldest first"),
                        **_errors(401, 403, 404)}},
            "post": {"operationId": "uploadCaseFile",
                     "summary": "Upload an attachment or an onboarding document to a case (scope `work`)",
                     "parameters": [instance_id],
                     "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": UPLOAD}}},
                     "responses": {"201": _json(DOCUMENT, "The stored file (without its content)"),
                                   **_errors(400, 401, 403, 404)}}},
        "/documents/{document_id}": {
            "get": {"operationId": "downloadCaseFile", "summary": "A case file's content (the read is audited)",
                    "parameters": [document_id],
                    "responses": {"200": {"description": "The file, as an attachment",
                                          "content": {kind: {"schema": binary} for kind in NAMES}},
                                  **_errors(401, 403, 404)}}},
    }
