"""Administration: users, their roles (lane names) and API tokens (created with scopes and an expiry, revoked)."""

from __future__ import annotations

from engine.core import tokens, users
from engine.errors import InvalidInput
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for

from webapp.extensions import get_engine
from webapp.web.auth import require_login, role_required
from webapp.web.views.forms import TokenForm, UserForm

bp = Blueprint("admin", __name__, url_prefix="/admin")
require_login(bp)


@bp.before_request
@role_required(users.ADMIN_ROLE)
def _admins_only():
    return None


def known_roles() -> list[str]:
    """Every role some user holds (and Admin): suggestions for the roles field."""
    with get_engine().read_session() as session:
        return sorted({role for user in users.list_users(session) for role in user.roles} | {users.ADMIN_ROLE})


def get_user_or_404(username: str) -> users.UserView:
    with get_engine().read_session() as session:
        return users.get_user(session, username)


@bp.get("/users")
def users_list():
    with get_engine().read_session() as session:
        rows = users.list_users(session)
    return render_template("admin/users.html", users=rows)


@bp.route("/users/new", methods=["GET", "POST"], defaults={"username": None})
@bp.route("/users/<username>", methods=["GET", "POST"])
def user_edit(username: str | None):
    existing = get_user_or_404(username) if username else None
    initial = {"username": existing.username, "display_name": existing.display_name, "email": existing.email,
               "roles": ", ".join(sorted(existing.roles))} if existing else {}
    form = UserForm(data=initial)
    if existing:
        form.username.render_kw = {"readonly": True}
    if form.validate_on_submit():
        name = existing.username if existing else form.username.data.strip()
        try:
            with get_engine().write_session.begin() as session:
                saved = users.save_user(session, name, form.role_list(), password=form.password.data or None,
                                        display_name=form.display_name.data or None, email=form.email.data or None)
        except InvalidInput as err:
            form.username.errors.append(str(err))
        else:
            flash(f"Saved {saved.username} ({', '.join(sorted(saved.roles)) or 'no roles'}).", "success")
            return redirect(url_for("admin.user_edit", username=saved.username), 303)
    status = 422 if form.errors else 200
    return render_template("admin/user.html", form=form, user=existing, roles=known_roles(),
                           token_form=TokenForm(), tokens=tokens_of(existing), now=get_engine().clock.now()), status


def tokens_of(user: users.UserView | None) -> list[tokens.TokenView]:
    if user is None:
        return []
    with get_engine().read_session() as session:
        return tokens.list_tokens(session, user.username)


@bp.post("/users/<username>/tokens")
def token_create(username: str):
    user = get_user_or_404(username)
    form = TokenForm()
    if not form.validate():
        abort(400, description="; ".join(f"{form[name].label.text}: {' '.join(errors)}"
                                         for name, errors in form.errors.items()))
    engine = get_engine()
    with engine.write_session.begin() as session:
        token, view = tokens.create_token(session, user.username, form.name.data or "", now=engine.clock.now(),
                                          scopes=form.scopes.data or None,
                                          days=form.days.data or current_app.config["API_TOKEN_DAYS"],
                                          process_keys=form.process_list())
    return render_template("admin/token.html", user=user, token=token, label=form.name.data, view=view)


@bp.post("/users/<username>/tokens/<int:token_id>/revoke")
def token_revoke(username: str, token_id: int):
    engine = get_engine()
    with engine.write_session.begin() as session:
        view = tokens.revoke(session, token_id, engine.clock.now(), username=username)
    flash(f"Revoked the token {view.name or view.id} of {username}.", "success")
    return redirect(url_for("admin.user_edit", username=username), 303)
