"""Who is asking: Flask-Login sessions for staff, bearer tokens for the API, and role checks for both."""

from __future__ import annotations

from functools import wraps

from engine.core import users
from engine.core.users import UserView
from engine.errors import NotAllowed, UserNotFound
from flask import Blueprint, Flask, abort, g
from flask_login import UserMixin, current_user, login_required

from webapp.extensions import get_engine, login_manager

# Roles that may cancel or retry instances (besides Admin, which may do everything).
INSTANCE_MANAGERS = frozenset({"Admin", "Supervisor", "Manager"})


class StaffUser(UserMixin):
    """The signed-in user for Flask-Login: a thin wrapper over the engine's `UserView`."""

    def __init__(self, view: UserView):
        self.view = view

    def get_id(self) -> str:
        return self.view.username

    @property
    def is_active(self) -> bool:
        return self.view.active

    @property
    def username(self) -> str:
        return self.view.username

    @property
    def display_name(self) -> str:
        return self.view.display_name or self.view.username

    def has_role(self, *roles: str) -> bool:
        return self.view.is_admin or any(role in self.view.roles for role in roles)

    @property
    def may_manage_instances(self) -> bool:
        return self.has_role(*INSTANCE_MANAGERS)


def init_app(app: Flask) -> None:
    """Bind the login manager's loader and sign-in page."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.user_loader(_load_user)


def _load_user(username: str) -> StaffUser | None:
    try:
        view = get_engine().user(username)
    except UserNotFound:
        return None
    return StaffUser(view) if view.active else None


def authenticate(username: str, password: str) -> StaffUser | None:
    """The user whose name and password match, or None (same cost either way)."""
    with get_engine().read_session() as session:
        view = users.check_password(session, username, password)
    return StaffUser(view) if view else None


def token_user(token: str) -> UserView | None:
    """The active user an API token belongs to (and mark the token used)."""
    with get_engine().write_session.begin() as session:
        return users.user_for_token(session, token)


def require_login(bp: Blueprint) -> None:
    """Every view of `bp` needs a signed-in user."""

    @bp.before_request
    @login_required
    def _signed_in():
        return None


def role_required(*roles: str):
    """Refuse (403) a user who has none of `roles` (Admin has every role)."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403, description=f"This needs one of the roles: {', '.join(sorted(roles))}.")
            return view(*args, **kwargs)
        return wrapper
    return decorate


def acting_user() -> str:
    """The user name to pass to the engine as `by`: the API's token user, or the signed-in user."""
    api_user = g.get("api_user")
    if api_user is not None:
        return api_user.username
    return current_user.username


def check_role(user: UserView, roles: frozenset[str]) -> None:
    if not (user.is_admin or user.roles & roles):
        raise NotAllowed(f"this needs one of the roles: {', '.join(sorted(roles))}")
