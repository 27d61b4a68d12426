"""The retention job on RQ: anonymise ended instances kept longer than `CLIENTFLOW_RETENTION_DAYS`.

`retention_job` gets the engine and the retention period from the worker's context (webapp/worker/context.py), like
the timer and mail jobs. It is idempotent: a run takes only what is due and not yet anonymised. `schedule_retention`
puts it on the mail queue (one job per scheduled minute); with `every_hours`, each run schedules the next.
The same run is `clientflow privacy retention` (for cron).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from engine import privacy
from rq import Queue
from rq.job import Job

from webapp.worker.context import current
from webapp.worker.queues import MAIL_QUEUE

log = logging.getLogger(__name__)

RETENTION_JOB_PREFIX = "clientflow-privacy-retention"


def retention_days(config: Mapping) -> int:
    """The retention period: `RETENTION_DAYS` (env `CLIENTFLOW_RETENTION_DAYS`), else five years."""
    raw = config.get("RETENTION_DAYS") or privacy.DEFAULT_RETENTION_DAYS
    return privacy.check_days(raw)


def retention_job(dry_run: bool = False, every_hours: float | None = None) -> dict:
    """One retention run; with `every_hours`, the next run is scheduled before this one returns."""
    context = current()
    engine = context.engine
    run = privacy.run_retention(engine, context.retention_days, dry_run=dry_run)
    # Counts only: which people were erased is exactly what must not reach the logs.
    log.info("retention: %d instance(s) due, %d anonymised, %d skipped%s", len(run.due), len(run.anonymised),
             len(run.skipped), " (dry run)" if dry_run else "")
    if every_hours:
        schedule_retention(Queue(MAIL_QUEUE, connection=context.redis),
                           engine.clock.now() + timedelta(hours=every_hours), every_hours=every_hours)
    return run.as_dict()


def schedule_retention(queue: Queue, at: datetime, every_hours: float | None = None) -> Job:
    """Schedule the retention job for `at` (repeating every `every_hours` when given).

    The job id names the minute, so scheduling the same run twice keeps one job; a running job never
    shares its id with the next one it schedules."""
    return queue.enqueue_at(at, retention_job, every_hours=every_hours,
                            job_id=f"{RETENTION_JOB_PREFIX}-{at:%Y%m%d%H%M}", description="privacy retention run")
