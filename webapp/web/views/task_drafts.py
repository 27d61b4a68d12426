"""Typed answers are never lost: "save draft" on a task form, and answers posted after the session ended (or with
an expired CSRF token) kept server-side for the user and task, then shown again after signing in.

The user of an expired session is known from a signed field the task form carries (`draft_owner`: the user name
and task id, signed with the app's secret), so nobody can leave answers in someone else's draft."""

from __future__ import annotations

from engine.errors import ClientflowError
from flask import current_app, redirect, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.datastructures import MultiDict

from webapp.extensions import get_engine
from webapp.web.views.errors import csrf_error

SALT = "task-draft-owner"
MAX_AGE = 24 * 3600  # a form left open for longer than a day is not worth keeping
NOT_ANSWERS = {"csrf_token", "expected_version", "draft_owner", "action"}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def owner_token(task_id: str) -> str:
    """The signed (user, task) pair the task form carries."""
    return _serializer().dumps([current_user.username, task_id])


def owner_of(token: str, task_id: str) -> str | None:
    try:
        username, signed_task = _serializer().loads(token, max_age=MAX_AGE)
    except (BadSignature, ValueError, TypeError):
        return None
    return username if signed_task == task_id else None


def answers(form: MultiDict) -> dict[str, list[str]]:
    return {name: form.getlist(name) for name in form if name not in NOT_ANSWERS}


def draft_form_data(task_id: str):
    """The user's draft of the task as form data (None without one), and the draft."""
    draft = get_engine().task_draft(current_user.username, task_id)
    return (MultiDict([(k, v) for k, values in draft.answers.items() for v in values]) if draft else None), draft


def keep_answers_when_signed_out():
    """Before the sign-in check: a task form posted without a session keeps its answers."""
    if request.method == "POST" and request.endpoint == "tasks.complete" and not current_user.is_authenticated:
        return _keep_and_continue()
    return None


def keep_answers_on_csrf_error(error: CSRFError):
    if request.method == "POST" and request.endpoint == "tasks.complete":
        kept = _keep_and_continue()
        if kept is not None:
            return kept
    return csrf_error(error)


def _keep_and_continue():
    task_id = (request.view_args or {}).get("task_id", "")
    username = owner_of(request.form.get("draft_owner", ""), task_id)
    if username is None:
        return None
    try:
        get_engine().save_task_draft(username, task_id, answers(request.form), "expired")
    except ClientflowError:
        return None  # the task is gone or the answers cannot be kept: the usual answer follows
    back = url_for("tasks.show", task_id=task_id, kept=1)
    if current_user.is_authenticated and current_user.username == username:
        return redirect(back, 303)
    return redirect(url_for("auth.login", next=back), 303)
