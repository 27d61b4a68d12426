"""Rate limits for the public portal: hits counted per bucket in fixed windows, in the database.

The database is the one store every web process shares (Redis may be embedded or absent), and one atomic upsert
per hit is cheap next to what a portal request does anyway. Buckets are keyed by an HMAC of the client address or
reference, so the table holds no personal data. Over the limit is a 429 with a Retry-After header.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from engine.core.db.models import RateCounter
from flask import current_app, request
from sqlalchemy import bindparam, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from werkzeug.exceptions import TooManyRequests

from webapp.extensions import get_engine


@dataclass(frozen=True)
class Limit:
    hits: int
    seconds: int


# Generous for people, tight for scripts; PORTAL_RATE_LIMITS maps a name to (hits, seconds) to change one.
DEFAULT_LIMITS = {
    "submit": Limit(5, 3600),  # new complaints or suggestions from one address
    "track": Limit(20, 600),  # status look-ups from one address
    "reference": Limit(10, 3600),  # look-ups of one reference number, from anywhere
    "link": Limit(30, 600),  # survey and reply pages from one address
}


class RateLimited(TooManyRequests):
    """Over a portal limit; `retry_after` is in seconds."""

    def __init__(self, retry_after: int):
        super().__init__(description="Too many requests from you in a short time.")
        self.retry_after = retry_after

    def get_headers(self, environ=None, scope=None):
        return [*super().get_headers(environ, scope), ("Retry-After", str(self.retry_after))]


def _upsert(insert):
    stmt = insert(RateCounter).values(bucket=bindparam("bucket"), window=bindparam("window"), hits=1)
    stmt = stmt.on_conflict_do_update(index_elements=["bucket", "window"], set_={"hits": RateCounter.hits + 1})
    return stmt.returning(RateCounter.hits)


_COUNT = {"postgresql": _upsert(pg_insert), "sqlite": _upsert(sqlite_insert)}


def limit_of(name: str) -> Limit:
    configured = (current_app.config.get("PORTAL_RATE_LIMITS") or {}).get(name)
    return Limit(*configured) if configured is not None else DEFAULT_LIMITS[name]


def bucket_of(name: str, subject: str) -> str:
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    return f"{name}:{hmac.new(key, subject.encode(), hashlib.sha256).hexdigest()[:40]}"


def check(name: str, subject: str) -> None:
    """Count one hit of `subject` against limit `name`; raises RateLimited when it goes over."""
    limit = limit_of(name)
    engine = get_engine()
    now = int(engine.clock.now().timestamp())
    window, bucket = now // limit.seconds, bucket_of(name, subject)
    with engine.write_session.begin() as session:
        conn = session.connection()
        hits = conn.execute(_COUNT[conn.dialect.name], {"bucket": bucket, "window": window}).scalar_one()
        if hits == 1:  # first hit of a new window: forget this limit's finished windows
            conn.execute(delete(RateCounter).where(RateCounter.bucket.startswith(f"{name}:"),
                                                   RateCounter.window < window))
    if hits > limit.hits:
        raise RateLimited(retry_after=(window + 1) * limit.seconds - now)


def client_address() -> str:
    """The client's address (put ProxyFix in front of the app when it runs behind a proxy)."""
    return request.remote_addr or "unknown"
