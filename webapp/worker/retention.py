"""The retention job on RQ: anonymise ended instances kept longer than `CLIENTFLOW_RETENTION_DAYS`.

`retention_job` runs inside the app context the worker entry point opened (webapp/worker/entry.py), like the timer
and mail jobs. It is idempotent: a run takes only what is due and not yet anonymised. `schedule_retention`
puts it on the mail queue (one job per scheduled minute); with `every_hours`, each run schedules the next.
The same run is `clientflow privacy retention` (for cron).
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta

from engine import privacy
from flask import Flask, current_app
from rq import Queue
from rq.job import Job

from webapp.extensions import get_engine
from webapp.worker.queues import MAIL_QUEUE, get_queue

log = logging.getLogger(__name__)

RETENTION_JOB_PREFIX = "clientflow-privacy-retention"


def retention_days(app: Flask | None = None) -> int:
    """The retention period: config `RETENTION_DAYS`, else env `CLIENTFLOW_RETENTION_DAYS`, else five years."""
    config = (app or current_app).config
    raw = config.get("RETENTION_DAYS") or os.environ.get("CLIENTFLOW_RETENTION_DAYS") \
        or privacy.DEFAULT_RETENTION_DAYS
    return privacy.check_days(raw)


def retention_job(dry_run: bool = False, every_hours: float | None = None) -> dict:
    """One retention run; with `every_hours`, the next run is scheduled before this one returns."""
    engine = get_engine()
    run = privacy.run_retention(engine, retention_days(), dry_run=dry_run)
    # Counts only: which people were erased is exactly what must not reach the logs.
    log.info("retention: %d instance(s) due, %d anonymised, %d skipped%s", len(run.due), len(run.anonymised),
             len(run.skipped), " (dry run)" if dry_run else "")
    if every_hours:
        schedule_retention(get_queue(MAIL_QUEUE), engine.clock.now() + timedelta(hours=every_hours),
                           every_hours=every_hours)
    return run.as_dict()


def schedule_retention(queue: Queue, at: datetime, every_hours: float | None = None) -> Job:
    """Schedule the retention job for `at` (repeating every `every_hours` when given).

    The job id names the minute, so scheduling the same run twice keeps one job; a running job never
    shares its id with the next one it schedules."""
    return queue.enqueue_at(at, retention_job, every_hours=every_hours,
                            job_id=f"{RETENTION_JOB_PREFIX}-{at:%Y%m%d%H%M}", description="privacy retention run")
