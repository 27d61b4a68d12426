"""Old dotted names of the RQ jobs, kept for one release (docs/decisions.md, "Restructure").

RQ stores a job's function by dotted name in Redis: a timer or mail job enqueued before the upgrade as
`webapp.jobs.fire_timer` must still run after it. New jobs are enqueued under `webapp.worker.jobs`.
"""

from webapp.worker.jobs import fire_timer, send_notification

__all__ = ["fire_timer", "send_notification"]
