"""The JSON API (`/api/v1`): bearer-token auth, JSON in and out, errors as JSON (see docs/api.md)."""

from __future__ import annotations

from flask import Blueprint, g, request

from webapp.web.api.openapi import query_parameters
from webapp.web.auth import require_scope, token_grant
from webapp.web.views.errors import error_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_ENDPOINTS = {"api.openapi"}
# The token scope each endpoint needs (docs/api.md); any other endpoint needs `read`.
SCOPE_OF = {"api.start": "start", "api.claim": "work", "api.unclaim": "work", "api.complete": "work",
            "api.message": "work", "api.cancel": "admin", "api.retry": "admin", "api.upload_case_file": "work"}


@bp.before_request
def authenticate():
    """Every endpoint but the OpenAPI document needs `Authorization: Bearer <token>` with a token that has not
    expired or been revoked, and the scope the endpoint needs; the token's user acts."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    grant = token_grant(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if grant is None:
        return error_response(401, "A valid API token is needed: send `Authorization: Bearer <token>` (tokens "
                                   "expire and can be revoked: ask an administrator for a new one).",
                              headers={"WWW-Authenticate": 'Bearer realm="clientflow", error="invalid_token"'})
    g.api_user, g.api_grant = grant.user, grant
    if request.endpoint is not None:
        require_scope(SCOPE_OF.get(request.endpoint, "read"))
    return None


@bp.before_request
def refuse_unknown_query_parameters():
    """A misspelt filter (`?stauts=`) is an error, not silently "no filter": the document lists what each takes."""
    if request.url_rule is None:
        return None
    known = query_parameters(request.method, request.url_rule.rule)
    unknown = sorted(set(request.args) - known)
    if unknown:
        return error_response(400, f"unknown query parameter(s): {', '.join(unknown)}"
                                   + (f"; this endpoint takes: {', '.join(sorted(known))}" if known else ""))
    return None
