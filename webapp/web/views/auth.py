"""Sign-in (password, then a TOTP code when the user has or needs one) and sign-out for staff.

Failed attempts are throttled per account and per client address by Flask-Limiter (429 with Retry-After);
a sign-in opens a new server-side session, a sign-out ends every session of the user.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from engine.core import totp, users
from engine.core.users import UserView
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from webapp.extensions import get_engine, limiter
from webapp.web.auth import check_password, end_sessions, start_session
from webapp.web.portal.limits import client_address
from webapp.web.views.forms import CodeForm, LoginForm

bp = Blueprint("auth", __name__)

PENDING = "pending_sign_in"
PENDING_SECONDS = 300  # a password proved this long ago still lets the user enter their code


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("inbox.index")


def _failed(response) -> bool:
    return response.status_code == 401


def _account_key() -> str:
    pending = session.get(PENDING) or {}
    name = pending.get("user") or request.form.get("username") or ""
    return "sign-in:account:" + name.strip().casefold()


def _address_key() -> str:
    return "sign-in:address:" + client_address()


def _throttled(view):
    """Failed sign-in steps (answered 401) count against the account and the address; over either, 429."""
    view = limiter.limit(lambda: current_app.config["LOGIN_LIMIT_ACCOUNT"], key_func=_account_key,
                         methods=["POST"], deduct_when=_failed)(view)
    return limiter.limit(lambda: current_app.config["LOGIN_LIMIT_ADDRESS"], key_func=_address_key,
                         methods=["POST"], deduct_when=_failed)(view)


@bp.route("/login", methods=["GET", "POST"])
@_throttled
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = check_password(form.username.data.strip(), form.password.data)
        if user is not None:
            return _second_factor_or_sign_in(user)
        form.password.errors.append("Wrong user name or password.")
    status = 401 if form.errors else 200
    return render_template("auth/login.html", form=form), status


def _second_factor_or_sign_in(user: UserView):
    with get_engine().read_session() as db:
        secret = users.totp_secret(db, user.username)
    required = set(current_app.config["TOTP_REQUIRED_ROLES"]) & set(user.roles)
    if not secret and not required:
        return _sign_in(user)
    session.clear()
    session[PENDING] = {"user": user.username, "at": time.time(), "next": request.args.get("next")}
    return redirect(url_for("auth.second_factor"))


def _sign_in(user: UserView):
    target = _safe_next(request.args.get("next") or (session.get(PENDING) or {}).get("next"))
    session.clear()  # nothing from before the sign-in carries over; the session id is new (start_session)
    login_user(start_session(user))
    return redirect(target)


@bp.route("/login/code", methods=["GET", "POST"])
@_throttled
def second_factor():
    pending = session.get(PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        session.pop(PENDING, None)
        return redirect(url_for("auth.login"))
    engine = get_engine()
    user = engine.user(pending["user"])
    with engine.read_session() as db:
        secret = users.totp_secret(db, user.username)
    enrolling = secret is None
    if enrolling:
        secret = pending.setdefault("secret", totp.new_secret())
        session[PENDING] = pending
    form = CodeForm()
    if form.validate_on_submit():
        if totp.verify(secret, form.code.data, engine.clock.now()):
            if enrolling:
                with engine.write_session.begin() as db:
                    users.set_totp_secret(db, user.username, secret)
            return _sign_in(user)
        form.code.errors.append("That code is wrong or has expired: enter the current one.")
    return render_template("auth/code.html", form=form, secret=secret if enrolling else None,
                           uri=totp.provisioning_uri(secret, user.username) if enrolling else None), \
        401 if form.errors else 200


@bp.post("/logout")
@login_required
def logout():
    end_sessions(current_user.view.id)
    logout_user()
    session.clear()
    flash("You are signed out (on every device).", "info")
    return redirect(url_for("auth.login"))
