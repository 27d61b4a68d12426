"""Old dotted name of the retention job, kept for one release (docs/decisions.md, "Restructure").

A scheduled retention run enqueued before the upgrade names `webapp.privacy_jobs.retention_job` in Redis.
"""

from webapp.worker.retention import retention_job

__all__ = ["retention_job"]
