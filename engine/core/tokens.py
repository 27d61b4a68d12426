"""API tokens: shown once, stored as a hash, with an expiry, scopes, optional process keys, and revocation."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core.db.models import ApiToken, User
from engine.core.users import UserView, user_view
from engine.errors import InvalidInput, UserNotFound

# read: GET anything the user may see; work: claim, unclaim, complete, send messages; start: start processes;
# admin: cancel and retry instances (the user must also hold a role that may).
SCOPES = ("read", "work", "start", "admin")
DEFAULT_SCOPES = ("read", "work", "start")
DEFAULT_DAYS = 90
MAX_DAYS = 366
_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,120}$")


@dataclass(frozen=True)
class TokenView:
    id: int
    username: str
    name: str
    scopes: tuple[str, ...]
    process_keys: tuple[str, ...] | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def as_dict(self, now: datetime) -> dict:
        iso = lambda t: t.isoformat() if t else None  # noqa: E731
        return {"id": self.id, "user": self.username, "name": self.name, "scopes": list(self.scopes),
                "processes": list(self.process_keys) if self.process_keys is not None else None,
                "created_at": iso(self.created_at), "expires_at": iso(self.expires_at),
                "last_used_at": iso(self.last_used_at), "revoked_at": iso(self.revoked_at),
                "state": self.state(now)}


@dataclass(frozen=True)
class TokenGrant:
    """What a request bearing a valid token may do: the user, the token's scopes and process keys."""

    user: UserView
    token_id: int
    scopes: frozenset[str]
    process_keys: frozenset[str] | None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes

    def allows_process(self, key: str | None) -> bool:
        return self.process_keys is None or key in self.process_keys


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _view(row: ApiToken, username: str) -> TokenView:
    keys = tuple(row.process_keys) if row.process_keys is not None else None
    return TokenView(row.id, username, row.name, tuple(row.scopes or ()), keys, row.created_at, row.expires_at,
                     row.last_used_at, row.revoked_at)


def checked_scopes(scopes: list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(s.strip() for s in (scopes or DEFAULT_SCOPES) if s.strip()))
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown or not chosen:
        raise InvalidInput(f"unknown token scope(s) {', '.join(unknown) or '(none)'}: use {', '.join(SCOPES)}")
    return chosen


def checked_keys(keys: list[str] | None) -> tuple[str, ...] | None:
    if not keys:
        return None
    bad = [k for k in keys if not _KEY.match(k)]
    if bad:
        raise InvalidInput(f"invalid process key(s) {', '.join(map(repr, bad))}")
    return tuple(sorted(set(keys)))


def create_token(session: Session, username: str, name: str = "", *, now: datetime,
                 scopes: list[str] | tuple[str, ...] | None = None, days: int | None = DEFAULT_DAYS,
                 process_keys: list[str] | None = None) -> tuple[str, TokenView]:
    """A new token for the user (the secret, shown once, and its view); `days=None` never expires."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserNotFound(f"no user named {username!r}")
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"a token lasts 1 to {MAX_DAYS} days")
    if len(name) > 80:
        raise InvalidInput("the token label has at most 80 characters")
    secret = "cf_" + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, token_hash=_hash(secret), created_at=now,
                   expires_at=now + timedelta(days=days) if days is not None else None,
                   scopes=list(checked_scopes(scopes)), process_keys=_as_list(checked_keys(process_keys)))
    session.add(row)
    session.flush()
    return secret, _view(row, user.username)


def _as_list(keys: tuple[str, ...] | None) -> list[str] | None:
    return list(keys) if keys is not None else None


def authenticate(session: Session, token: str, now: datetime) -> TokenGrant | None:
    """The grant of a valid token (and mark it used); None for an unknown, expired or revoked token."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(token)))
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    row.last_used_at = now
    keys = frozenset(row.process_keys) if row.process_keys is not None else None
    return TokenGrant(user_view(session, user), row.id, frozenset(row.scopes or ()), keys)


def list_tokens(session: Session, username: str | None = None) -> list[TokenView]:
    stmt = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
    if username is not None:
        stmt = stmt.where(User.username == username)
    return [_view(row, name) for row, name in session.execute(stmt)]


def revoke(session: Session, token_id: int, now: datetime, username: str | None = None) -> TokenView:
    """Revoke a token for good (revoking it again changes nothing); `username` checks whose it is."""
    found = session.execute(select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
                            .where(ApiToken.id == token_id)).one_or_none()
    if found is None or (username is not None and found[1] != username):
        raise InvalidInput(f"no API token with id {token_id}" + (f" for {username}" if username else ""))
    row, name = found
    if row.revoked_at is None:
        row.revoked_at = now
    session.flush()
    return _view(row, name)
