"""Who is asking: server-side sessions (through Flask-Login) for staff, bearer tokens for the API, role checks."""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from engine.core import sessions, tokens, users
from engine.core.tokens import TokenGrant
from engine.core.users import UserView
from engine.errors import NotAllowed
from flask import Blueprint, Flask, abort, current_app, g
from flask_login import UserMixin, current_user, login_required

from webapp.extensions import get_engine, login_manager

# Roles that may cancel or retry instances (besides Admin, which may do everything).
INSTANCE_MANAGERS = frozenset({"Admin", "Supervisor", "Manager"})


class StaffUser(UserMixin):
    """The signed-in user for Flask-Login: a thin wrapper over the engine's `UserView`."""

    def __init__(self, view: UserView, session_id: str):
        self.view = view
        self.session_id = session_id

    def get_id(self) -> str:
        # What Flask-Login keeps in the cookie: the server-side session's id, not the user name.
        return self.session_id

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


def _load_user(session_id: str) -> StaffUser | None:
    """The user of a live server-side session; None (so: the sign-in page) once it ended, idled or aged out."""
    engine, config = get_engine(), current_app.config
    now = engine.clock.now()
    with engine.read_session() as session:
        view, state = sessions.check(session, session_id, now, idle=timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
                                     lifetime=timedelta(hours=config["SESSION_LIFETIME_HOURS"]))
    if state == "over":
        with engine.write_session.begin() as session:
            sessions.end_session(session, session_id)
    elif state == "touch":
        with engine.write_session.begin() as session:
            sessions.touch(session, session_id, now)
    return StaffUser(view, session_id) if view is not None else None


def check_password(username: str, password: str) -> UserView | None:
    """The user whose name and password match, or None (same cost either way)."""
    with get_engine().read_session() as session:
        return users.check_password(session, username, password)


def start_session(view: UserView) -> StaffUser:
    """A new server-side session for a user who proved who they are (a new id at every sign-in)."""
    engine = get_engine()
    with engine.write_session.begin() as session:
        session_id = sessions.open_session(session, view.id, engine.clock.now())
    return StaffUser(view, session_id)


def end_sessions(user_id: int) -> None:
    """End every session of the user (sign-out ends them on every device)."""
    with get_engine().write_session.begin() as session:
        sessions.end_all(session, user_id)


def token_grant(token: str) -> TokenGrant | None:
    """What a valid API token may do (and mark it used); None when unknown, expired or revoked."""
    engine = get_engine()
    with engine.write_session.begin() as session:
        return tokens.authenticate(session, token, engine.clock.now())


def require_scope(scope: str, process_key: str | None = None) -> None:
    """Refuse an API call its token's scopes (or process keys) do not cover; a signed-in user passes."""
    grant = g.get("api_grant")
    if grant is None:
        return
    if not grant.allows(scope):
        raise NotAllowed(f"this API token does not have the {scope!r} scope")
    if process_key is not None and not grant.allows_process(process_key):
        raise NotAllowed(f"this API token is not for the process {process_key!r}")


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
