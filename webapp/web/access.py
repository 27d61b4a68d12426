"""Least privilege and the access log, as the views use them: one call to log a view, one to redact it.

The signed-in user (or the API token's user: a token carries exactly its user's roles) is the viewer.
"""

from __future__ import annotations

from typing import Any

from engine import privacy
from engine.core.users import UserView
from engine.results import InstanceDetail, InstanceView, TaskView
from flask import g
from flask_login import current_user

from webapp.extensions import get_engine


def viewer() -> tuple[UserView, str]:
    """The user looking, and the channel: the API token's user, else the signed-in user."""
    api_user = g.get("api_user")
    if api_user is not None:
        return api_user, "api"
    return current_user.view, "web"


def redacted(detail: InstanceDetail) -> InstanceDetail:
    """`detail` with personal fields masked unless the viewer works in the process's lanes (or is privileged)."""
    return privacy.redact_for(get_engine(), detail, viewer()[0])


def log_access(what: str, *, instance_id: int | None = None, task: TaskView | None = None,
               context: dict[str, Any] | None = None, subjects: list[int] | None = None,
               why: str | None = None) -> None:
    """Log that the viewer saw an instance's data (`instance`), a task holding personal fields (`task`), or
    exported or searched personal data (`export`, `search`); `why` defaults to the viewer's access basis."""
    engine = get_engine()
    user, channel = viewer()
    if what == "task":
        if privacy.task_holds_personal(engine, task, context):
            privacy.log_access(engine, user, channel, "view_task", instance_id=task.instance_id, task_id=task.id,
                               why=why)
        return
    action = "view_instance" if what == "instance" else what
    privacy.log_access(engine, user, channel, action, instance_id=instance_id, subjects=subjects, why=why)


def redacted_list(views: list[InstanceView]) -> list[InstanceView]:
    """Instance list rows with the client label masked outside the viewer's lanes."""
    return privacy.redact_labels(get_engine(), views, viewer()[0])
