"""Server-side sign-in sessions: the browser holds a random id, the database holds its hash and its times.

Signing out, changing a password or deactivating a user ends every session of that user at once; a session
idle too long or older than its absolute lifetime is over even if the cookie is replayed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from engine.core.db.models import User, UserRole, UserSession
from engine.core.db.prepared import Prepared
from engine.core.users import UserView, user_from_rows

# Only write `last_seen_at` when it moved this much: one write per minute per session, not one per request.
TOUCH_EVERY = timedelta(seconds=60)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(db: Session, user_id: int, now: datetime) -> str:
    """A new session for the user; returns the id for the cookie (a new one at every sign-in)."""
    session_id = secrets.token_urlsafe(32)
    db.add(UserSession(id_hash=_hash(session_id), user_id=user_id, created_at=now, last_seen_at=now))
    db.flush()
    return session_id


def check(db: Session, session_id: str, now: datetime, *, idle: timedelta,
          lifetime: timedelta) -> tuple[UserView | None, str]:
    """The user of a session and its state: `live`, `touch` (live, its last-seen time is worth writing), `over`
    (idle or too old: end it) or `unknown` (ended, never existed, or its user is inactive). Reads only."""
    rows = _SESSION_WITH_USER.all(db.connection(), {"id_hash": _hash(session_id)})
    if not rows:
        return None, "unknown"
    found = rows[0]
    if now - found.last_seen_at >= idle or now - found.created_at >= lifetime:
        return None, "over"
    if not found.active:
        return None, "unknown"
    return user_from_rows(found.username, rows), "touch" if now - found.last_seen_at >= TOUCH_EVERY else "live"


# Every signed-in request asks this, so it is one statement: the session, its user and the user's roles.
_SESSION_WITH_USER = Prepared(
    select(UserSession.created_at, UserSession.last_seen_at, User.id, User.username, User.display_name, User.email,
           User.active, UserRole.role_name)
    .join(User, User.id == UserSession.user_id).outerjoin(UserRole, UserRole.user_id == User.id)
    .where(UserSession.id_hash == bindparam("id_hash")))


def touch(db: Session, session_id: str, now: datetime) -> None:
    db.execute(update(UserSession).where(UserSession.id_hash == _hash(session_id)).values(last_seen_at=now))


def end_session(db: Session, session_id: str) -> None:
    db.execute(delete(UserSession).where(UserSession.id_hash == _hash(session_id)))


def end_all(db: Session, user_id: int) -> int:
    """End every session of the user (sign-out everywhere); returns how many there were."""
    return db.execute(delete(UserSession).where(UserSession.user_id == user_id)).rowcount


def count_open(db: Session, user_id: int) -> int:
    return len(db.scalars(select(UserSession.id_hash).where(UserSession.user_id == user_id)).all())


def purge(db: Session, now: datetime, *, idle: timedelta, lifetime: timedelta) -> int:
    """Delete sessions that are over (idle or too old); returns how many."""
    return db.execute(delete(UserSession).where(
        (UserSession.last_seen_at <= now - idle) | (UserSession.created_at <= now - lifetime))).rowcount
