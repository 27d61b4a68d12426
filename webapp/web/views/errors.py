"""One place that turns errors into responses: a real page for people, JSON for the API."""

from __future__ import annotations

from engine.errors import (
    ClientflowError,
    ConcurrentUpdate,
    InstanceNotRunning,
    InvalidInput,
    InvalidModel,
    InvalidTaskData,
    MessageNotCorrelated,
    NotAllowed,
    NotFound,
    TaskNotReady,
)
from flask import Blueprint, abort, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

bp = Blueprint("errors", __name__)

# The HTTP status of each domain error; the first matching class wins (subclasses come first).
STATUS_OF = (
    (NotFound, 404),
    (MessageNotCorrelated, 404),
    (NotAllowed, 403),
    (ConcurrentUpdate, 409),
    (TaskNotReady, 409),  # includes TaskAlreadyCompleted
    (InstanceNotRunning, 409),
    (InvalidTaskData, 422),
    (InvalidModel, 422),
    (InvalidInput, 400),
)

TITLES = {
    400: "Bad request",
    401: "Sign-in needed",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid data",
    500: "Something went wrong",
}

HINTS = {
    400: "The request could not be understood. Go back, check what you entered and try again.",
    403: "Your roles do not allow this. Ask an administrator if you think they should.",
    404: "It may have been completed, cancelled or removed in the meantime.",
    409: "Someone else changed this while you were working on it. Nothing was saved: reload and try again.",
    500: "The error has been logged. Nothing you did was lost; try again in a moment.",
}


@bp.before_app_request
def refuse_nul_characters():
    """A NUL character is never meaningful input, and PostgreSQL refuses it in text: answer 400, not 500."""
    values = [request.path, *(v for vals in request.args.listvalues() for v in vals)]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values.extend(v for vals in request.form.listvalues() for v in vals)
    if any("\x00" in v for v in values):
        abort(400, description="The request contains a NUL character.")


def status_of(error: ClientflowError) -> int:
    for kind, status in STATUS_OF:
        if isinstance(error, kind):
            return status
    return 400


def wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best_match(["application/json", "text/html"]) == "application/json"
        and not request.accept_mimetypes.accept_html)


def error_response(status: int, message: str, *, fields: dict | None = None, headers: dict | None = None):
    if wants_json():
        body = {"error": {"status": status, "title": TITLES.get(status, "Error"), "message": message}}
        if fields:
            body["error"]["fields"] = fields
        response = jsonify(body)
    elif request.path == "/portal" or request.path.startswith("/portal/"):
        # Clients get the portal's own page (no staff menu, no "back to your inbox"), even for an unknown address.
        response = render_template("portal/problem.html", title=TITLES.get(status, "Error"), message=message)
    else:
        response = render_template("errors/error.html", status=status, title=TITLES.get(status, "Error"),
                                   message=message, hint=HINTS.get(status), fields=fields)
    return response, status, headers or {}


@bp.app_errorhandler(ClientflowError)
def domain_error(error: ClientflowError):
    fields = error.errors if isinstance(error, InvalidTaskData) else None
    return error_response(status_of(error), str(error), fields=fields)


@bp.app_errorhandler(CSRFError)
def csrf_error(error: CSRFError):
    return error_response(400, f"The form could not be accepted ({error.description}) Reload the page and try "
                               "again.")


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    headers = dict(error.get_headers())
    headers.pop("Content-Type", None)
    return error_response(error.code or 500, error.description or TITLES.get(error.code, "Error"), headers=headers)


@bp.app_errorhandler(InternalServerError)
def internal_error(error: InternalServerError):
    # Flask has logged the original exception already; its text stays out of the response.
    return error_response(500, "An unexpected error occurred.")
