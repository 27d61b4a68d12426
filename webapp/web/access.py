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


def token_process_keys() -> frozenset[str] | None:
    """The process keys the API token is limited to (None: any, and always None for a signed-in user)."""
    grant = g.get("api_grant")
    return grant.process_keys if grant is not None else None


def search_instances(*, key: str | None = None, status: str | None = None, text: str | None = None,
                     limit: int = 50, offset: int = 0) -> list[InstanceView]:
    """Instances as the viewer may list them: the text matches only labels they may see (so a hidden label
    cannot be guessed letter by letter), labels outside their lanes masked, a token's process scope applied;
    a search whose results show client labels is written to the access log."""
    engine = get_engine()
    user = viewer()[0]
    scope = privacy.label_scope(engine, user) if text else None
    rows = redacted_list(engine.list_instances(key=key, status=status, text=text, limit=limit, offset=offset,
                                               label_scope=scope, process_keys=token_process_keys()))
    shown = [r.id for r in rows if r.label and r.label != privacy.RESTRICTED]
    if text and shown:
        log_access("search", subjects=shown, why=f"search: {text.strip()}")
    return rows
