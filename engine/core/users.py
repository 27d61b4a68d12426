"""Users and roles (a BPMN lane is a role), passwords and second-factor secrets; API tokens are in tokens.py."""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, bindparam, delete, select
from sqlalchemy.orm import Session

from engine.core.db.models import Role, User, UserRole, UserSession
from engine.core.db.prepared import Prepared
from engine.core.passwords import check_new_password
from engine.errors import InvalidInput, UserNotFound

ADMIN_ROLE = "Admin"
# Clients are not staff: a lane of this name is where the client acts (through the portal), and holding it as a
# role would grant every client's case (docs/decisions.md). No account may hold it.
CLIENT_ROLES = frozenset({"Client"})
SYSTEM_ACTOR = "system"
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,80}$")
_hasher = PasswordHasher()


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    display_name: str
    email: str | None
    roles: frozenset[str]
    active: bool

    @property
    def is_admin(self) -> bool:
        return ADMIN_ROLE in self.roles

    def may_work_in(self, lane: str | None) -> bool:
        return lane is None or lane in self.roles or self.is_admin

    def as_dict(self) -> dict:
        return {"id": self.id, "username": self.username, "display_name": self.display_name,
                "email": self.email, "roles": sorted(self.roles), "active": self.active}


SYSTEM_USER = UserView(0, SYSTEM_ACTOR, "System", None, frozenset({ADMIN_ROLE}), True)


def user_view(session: Session, user: User) -> UserView:
    roles = frozenset(session.scalars(select(UserRole.role_name).where(UserRole.user_id == user.id)))
    return UserView(user.id, user.username, user.display_name, user.email, roles - CLIENT_ROLES, user.active)




_USER_WITH_ROLES = Prepared(
    select(User.id, User.username, User.display_name, User.email, User.active, UserRole.role_name)
    .outerjoin(UserRole, UserRole.user_id == User.id).where(User.username == bindparam("name")))


def get_user(db: Session | Connection, username: str) -> UserView:
    """The user with their roles, in one query (it runs on every engine call made on someone's behalf)."""
    if username == SYSTEM_ACTOR:
        return SYSTEM_USER
    conn = db.connection() if isinstance(db, Session) else db
    return user_from_rows(username, _USER_WITH_ROLES.all(conn, {"name": username}))


def user_read(username: str) -> tuple[Prepared, dict[str, str]]:
    """The statement `get_user` runs, for reading it together with others (`prepared.all_together`)."""
    return _USER_WITH_ROLES, {"name": username}


def user_from_rows(username: str, rows: list) -> UserView:
    """The user from the rows of `user_read`; `UserNotFound` when there are none."""
    if not rows:
        raise UserNotFound(f"no user named {username!r}")
    first = rows[0]
    roles = frozenset(r.role_name for r in rows if r.role_name) - CLIENT_ROLES
    return UserView(first.id, first.username, first.display_name, first.email, roles, first.active)


def list_users(session: Session) -> list[UserView]:
    return [user_view(session, u) for u in session.scalars(select(User).order_by(User.username))]


def save_user(session: Session, username: str, roles: list[str], *, password: str | None = None,
              display_name: str | None = None, email: str | None = None) -> UserView:
    """Create a user or update one (roles are replaced, a password only when given)."""
    if not _USERNAME.match(username or "") or username == SYSTEM_ACTOR:
        raise InvalidInput(f"invalid user name {username!r}: use 2-80 letters, digits or _.@- "
                           f"(and not {SYSTEM_ACTOR!r})")
    clients = sorted({r.strip() for r in roles} & CLIENT_ROLES)
    if clients:
        raise InvalidInput(f"{clients[0]!r} is not a staff role: clients act on their own cases through the portal")
    if password is not None:
        check_new_password(password, username)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, display_name=display_name or username)
        session.add(user)
    if display_name is not None:
        user.display_name = display_name
    if email is not None:
        user.email = email
    if password is not None:
        user.password_hash = _hasher.hash(password)
    session.flush()
    if password is not None:
        # A new password ends every open session of the user (a stolen cookie dies with the old password).
        session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    session.execute(delete(UserRole).where(UserRole.user_id == user.id))
    for role in sorted({r.strip() for r in roles if r.strip()}):
        if session.get(Role, role) is None:
            session.add(Role(name=role))
            session.flush()
        session.add(UserRole(user_id=user.id, role_name=role))
    session.flush()
    return user_view(session, user)


def check_password(session: Session, username: str, password: str) -> UserView | None:
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None or not user.password_hash:
        _hasher.hash("timing-equaliser")  # same cost whether or not the user exists
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user_view(session, user)


def set_active(session: Session, username: str, active: bool) -> UserView:
    """Activate or deactivate a user; deactivating ends every session of theirs."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserNotFound(f"no user named {username!r}")
    user.active = active
    if not active:
        session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    session.flush()
    return user_view(session, user)


def totp_secret(session: Session, username: str) -> str | None:
    return session.scalar(select(User.totp_secret).where(User.username == username))


def set_totp_secret(session: Session, username: str, secret: str | None) -> None:
    """Enrol (or, with None, remove) the user's TOTP second factor."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserNotFound(f"no user named {username!r}")
    user.totp_secret = secret
    session.flush()
