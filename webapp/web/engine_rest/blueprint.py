"""`/engine-rest`: the subset of Camunda 7's REST API that external-task workers and clients use.

Authentication (docs/camunda-migration.md): an API token, sent as `Authorization: Bearer <token>` or as the
password of HTTP Basic auth (what Camunda clients configure), so workers keep their client library and change only
URL and credentials. Errors are Camunda's JSON shape: `{"type": ..., "message": ...}`.
"""

from __future__ import annotations

import base64
import binascii

from engine.errors import ClientflowError, InvalidInput
from flask import Blueprint, g, jsonify, request

from webapp.web.auth import require_scope, token_grant
from webapp.web.views.errors import status_of

bp = Blueprint("engine_rest", __name__, url_prefix="/engine-rest")

PUBLIC_ENDPOINTS = {"engine_rest.engines", "engine_rest.version"}
SCOPE_OF = {"engine_rest.start": "start", "engine_rest.message": "start", "engine_rest.deploy": "admin"}


def _token() -> str | None:
    scheme, _, value = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            _user, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return password or None
    return None


@bp.before_request
def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    token = _token()
    grant = token_grant(token) if token else None
    if grant is None:
        response, status = camunda_error(401, "AuthenticationException", "An API token is needed: send it as a "
                                         "Bearer token or as the password of HTTP Basic auth.")
        response.headers["WWW-Authenticate"] = 'Basic realm="clientflow"'
        return response, status
    g.api_user, g.api_grant = grant.user, grant
    require_scope(SCOPE_OF.get(request.endpoint or "", "work"))
    return None


def camunda_error(status: int, kind: str, message: str):
    return jsonify({"type": kind, "message": message}), status


@bp.errorhandler(ClientflowError)
def domain_error(error: ClientflowError):
    return camunda_error(status_of(error), "InvalidRequestException" if isinstance(error, InvalidInput)
                         else error.__class__.__name__, str(error))


def body() -> dict:
    """The request's JSON object (an empty body is an empty object)."""
    if not request.get_data(cache=True):
        return {}
    value = request.get_json(silent=True)
    if not isinstance(value, dict):
        raise InvalidInput("the request body must be a JSON object")
    return value


def actor() -> str:
    return g.api_user.username
