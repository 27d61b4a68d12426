"""Retention: ended instances kept longer than the retention period are anonymised, nothing earlier.

POPIA s14 allows keeping personal information only as long as its purpose needs; after that it is
de-identified. The period is one setting (`CLIENTFLOW_RETENTION_DAYS`, default five years) counted from the
day an instance ended; the job is idempotent and takes a batch at a time, so it may run as often as wanted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from engine.core.db.models import AnonymisedInstance, ProcessInstance
from engine.core.users import SYSTEM_USER
from engine.errors import ConcurrentUpdate, InvalidInput
from engine.privacy.erasure import ENDED, erase_instance

if TYPE_CHECKING:
    from engine.facade import Engine

DEFAULT_RETENTION_DAYS = 365 * 5
BATCH = 500
INSTANCE, DONE = ProcessInstance.__table__, AnonymisedInstance.__table__


@dataclass(frozen=True)
class DueInstance:
    id: int
    reference: str | None
    process_key: str
    status: str
    ended_at: datetime


@dataclass
class RetentionRun:
    """What one run found due and did."""

    cutoff: datetime
    due: list[DueInstance]
    anonymised: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict:
        return {"cutoff": self.cutoff.isoformat(), "dry_run": self.dry_run,
                "due": [{"id": d.id, "reference": d.reference, "process": d.process_key, "status": d.status,
                         "ended_at": d.ended_at.isoformat()} for d in self.due],
                "anonymised": self.anonymised, "skipped": self.skipped}


def check_days(days) -> int:
    """A retention period in whole days (>= 1), or `InvalidInput`."""
    try:
        value = int(str(days).strip())
    except (TypeError, ValueError):
        raise InvalidInput("the retention period (CLIENTFLOW_RETENTION_DAYS) must be a whole number of days") \
            from None
    if value < 1:
        raise InvalidInput("the retention period (CLIENTFLOW_RETENTION_DAYS) must be at least 1 day")
    return value


def due_for_retention(engine: Engine, days: int, limit: int = BATCH) -> tuple[datetime, list[DueInstance]]:
    """The cutoff and the ended, not yet anonymised instances that ended before it, oldest first."""
    cutoff = engine.clock.now() - timedelta(days=check_days(days))
    stmt = (select(INSTANCE.c.id, INSTANCE.c.reference, INSTANCE.c.process_key, INSTANCE.c.status,
                   INSTANCE.c.ended_at)
            .where(INSTANCE.c.status.in_(ENDED), INSTANCE.c.ended_at.is_not(None), INSTANCE.c.ended_at < cutoff,
                   INSTANCE.c.id.not_in(select(DONE.c.instance_id)))
            .order_by(INSTANCE.c.ended_at, INSTANCE.c.id).limit(limit))
    with engine.sql_engine.connect() as conn:
        return cutoff, [DueInstance(r.id, r.reference, r.process_key, r.status, r.ended_at)
                        for r in conn.execute(stmt)]


def run_retention(engine: Engine, days: int, *, dry_run: bool = False, limit: int = BATCH) -> RetentionRun:
    """Anonymise what is due (or, with `dry_run`, only say what would be)."""
    cutoff, due = due_for_retention(engine, days, limit)
    run = RetentionRun(cutoff, due, dry_run=dry_run)
    if dry_run:
        return run
    for item in due:
        try:
            erased = erase_instance(engine, item.id, SYSTEM_USER, basis="retention")
        except ConcurrentUpdate:
            run.skipped.append(item.id)  # someone else is writing it; the next run takes it
            continue
        (run.anonymised if erased is not None else run.skipped).append(item.id)
    return run
