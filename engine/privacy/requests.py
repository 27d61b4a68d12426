"""Erasure requests: one Compliance Officer asks, with a reason; another approves (separation of duties).

Approval runs the erasure at once, one instance per transaction. An approved request whose run was cut short
(a crash, a concurrent change) stays `approved` and is finished by approving it again; instances already
anonymised are skipped, so a second run changes nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from engine.core.db.models import AnonymisedInstance, ErasureRequest, ProcessInstance
from engine.core.users import UserView
from engine.errors import ConcurrentUpdate, InvalidInput, NotAllowed, NotFound
from engine.privacy import access_log
from engine.privacy.datamap import PRIVACY_ROLES
from engine.privacy.erasure import ENDED, erase_instance

if TYPE_CHECKING:
    from engine.facade import Engine

REQUEST, INSTANCE, DONE = ErasureRequest.__table__, ProcessInstance.__table__, AnonymisedInstance.__table__
MIN_REASON, MAX_REASON = 10, 2000
STATUSES = ("pending", "approved", "done", "rejected")


class ErasureRequestNotFound(NotFound):
    """No erasure request with that id."""


@dataclass(frozen=True)
class ErasureView:
    id: int
    requested_at: datetime
    requested_by: str
    reason: str
    status: str
    decided_by: str | None
    decided_at: datetime | None
    note: str | None
    instances: list[dict[str, Any]]

    @property
    def instance_ids(self) -> list[int]:
        return [i["id"] for i in self.instances]


def check_officer(user: UserView) -> None:
    if not user.roles & PRIVACY_ROLES:
        raise NotAllowed(f"{user.username} needs one of the roles {', '.join(sorted(PRIVACY_ROLES))} for this")


def request_erasure(engine: Engine, instance_ids: list[int], reason: str, by: str) -> ErasureView:
    """A pending request to anonymise these ended instances; nothing is erased until someone else approves."""
    user = engine.user(by)
    check_officer(user)
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not MIN_REASON <= len(reason) <= MAX_REASON:
        raise InvalidInput(f"give the reason for the erasure ({MIN_REASON} to {MAX_REASON} characters)")
    ids = sorted({int(i) for i in instance_ids or ()})
    if not ids:
        raise InvalidInput("choose at least one instance to anonymise")
    with engine.write_session.begin() as session:
        conn = session.connection()
        rows = {r.id: r for r in conn.execute(select(INSTANCE.c.id, INSTANCE.c.reference, INSTANCE.c.status)
                                              .where(INSTANCE.c.id.in_(ids)))}
        missing = [str(i) for i in ids if i not in rows]
        if missing:
            raise InvalidInput(f"no instance with id {', '.join(missing)}")
        running = [rows[i].reference or str(i) for i in ids if rows[i].status not in ENDED]
        if running:
            raise InvalidInput(f"only completed or cancelled instances can be anonymised; still open: "
                               f"{', '.join(running)} (cancel them first, or wait until they end)")
        done = set(conn.scalars(select(DONE.c.instance_id).where(DONE.c.instance_id.in_(ids))))
        if done:
            raise InvalidInput("already anonymised: " + ", ".join(rows[i].reference or str(i) for i in sorted(done)))
        request_id = conn.execute(insert(REQUEST).values(
            requested_at=engine.clock.now(), requested_by=user.username, reason=reason, instance_ids=ids,
            status="pending").returning(REQUEST.c.id)).scalar_one()
    return erasure_request(engine, request_id)


def approve_erasure(engine: Engine, request_id: int, by: str, channel: str = "web") -> ErasureView:
    """Approve (or finish) a request and erase its instances; the requester can never approve their own."""
    user = engine.user(by)
    check_officer(user)
    request = erasure_request(engine, request_id)
    if request.requested_by == user.username:
        raise NotAllowed("separation of duties: you requested this erasure, so another Compliance Officer "
                         "must approve it")
    if request.status not in ("pending", "approved"):
        raise InvalidInput(f"erasure request {request_id} is {request.status}; only a pending request can be "
                           "approved")
    now = engine.clock.now()
    if request.status == "pending":
        _move(engine, request_id, "pending", status="approved", decided_by=user.username, decided_at=now)
        with engine.write_session.begin() as session:
            access_log.record(session.connection(), at=now, actor=user.username, channel=channel, action="erasure",
                              subjects=request.instance_ids, why=f"erasure request {request_id} approved")
    for instance_id in request.instance_ids:
        erase_instance(engine, instance_id, user, basis="request", request_id=request_id)
    _move(engine, request_id, "approved", status="done")
    return erasure_request(engine, request_id)


def reject_erasure(engine: Engine, request_id: int, by: str, note: str = "") -> ErasureView:
    """Close a pending request without erasing anything (the requester may withdraw their own)."""
    user = engine.user(by)
    check_officer(user)
    request = erasure_request(engine, request_id)
    if request.status != "pending":
        raise InvalidInput(f"erasure request {request_id} is {request.status}; only a pending request can be "
                           "rejected")
    _move(engine, request_id, "pending", status="rejected", decided_by=user.username,
          decided_at=engine.clock.now(), note=(note or "").strip()[:MAX_REASON] or None)
    return erasure_request(engine, request_id)


def _move(engine: Engine, request_id: int, expected: str, **values) -> None:
    with engine.write_session.begin() as session:
        moved = session.connection().execute(update(REQUEST).where(
            REQUEST.c.id == request_id, REQUEST.c.status == expected).values(**values))
        if moved.rowcount != 1:
            raise ConcurrentUpdate(f"erasure request {request_id} was decided by someone else meanwhile; reload")


def erasure_request(engine: Engine, request_id: int) -> ErasureView:
    with engine.sql_engine.connect() as conn:
        row = conn.execute(select(REQUEST).where(REQUEST.c.id == request_id)).one_or_none()
        if row is None:
            raise ErasureRequestNotFound(f"no erasure request with id {request_id}")
        return _views(conn, [row])[0]


def erasure_requests(engine: Engine, status: str | None = None, limit: int = 100) -> list[ErasureView]:
    """Requests, pending first, newest first within each status."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"unknown request status {status!r} (one of {', '.join(STATUSES)})")
    stmt = select(REQUEST).order_by((REQUEST.c.status != "pending"), REQUEST.c.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(REQUEST.c.status == status)
    with engine.sql_engine.connect() as conn:
        return _views(conn, list(conn.execute(stmt)))


def _views(conn, rows) -> list[ErasureView]:
    ids = sorted({i for r in rows for i in r.instance_ids or ()})
    found = {r.id: r for r in conn.execute(select(INSTANCE.c.id, INSTANCE.c.reference, INSTANCE.c.process_key,
                                                  INSTANCE.c.status).where(INSTANCE.c.id.in_(ids)))} if ids else {}
    done = {r.instance_id: r for r in conn.execute(select(DONE).where(DONE.c.instance_id.in_(ids)))} if ids else {}
    views = []
    for r in rows:
        instances = [{"id": i, "reference": found[i].reference if i in found else None,
                      "process": found[i].process_key if i in found else None,
                      "status": found[i].status if i in found else "gone",
                      "anonymised_at": done[i].at if i in done else None,
                      "fields": done[i].fields if i in done else None} for i in r.instance_ids or ()]
        views.append(ErasureView(r.id, r.requested_at, r.requested_by, r.reason, r.status, r.decided_by,
                                 r.decided_at, r.note, instances))
    return views
