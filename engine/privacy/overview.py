"""The privacy facade the web app and CLI call: data map, who-may-see for one instance, access logging."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, tuple_

from engine.core.db.models import ProcessDefinition, ProcessInstance
from engine.core.reads import LabelScope
from engine.core.users import UserView
from engine.errors import InstanceNotFound
from engine.privacy import access_log
from engine.privacy.datamap import PRIVACY_ROLES, RESTRICTED, ProcessPrivacy, access_basis, process_privacy, redact
from engine.results import InstanceDetail, InstanceView, TaskView

if TYPE_CHECKING:
    from engine.facade import Engine

INSTANCE, DEFINITION = ProcessInstance.__table__, ProcessDefinition.__table__
RESTRICTED_VIEW = "restricted view: personal fields hidden (not in the process's lanes)"


def data_map(engine: Engine, all_versions: bool = False) -> list[ProcessPrivacy]:
    """The personal fields, purpose and lanes of every deployed process (newest version of each by default)."""
    found = []
    with engine.sql_engine.connect() as conn:
        for process in engine.processes(all_versions=all_versions):
            found.append(process_privacy(engine.model(conn, process.definition_id), process.key, process.version))
    return found


def instance_privacy(engine: Engine, instance_id: int) -> tuple[ProcessPrivacy, str | None]:
    """The privacy facts of an instance's process version, and who started the instance."""
    with engine.sql_engine.connect() as conn:
        row = conn.execute(select(INSTANCE.c.definition_id, INSTANCE.c.process_key, INSTANCE.c.version,
                                  INSTANCE.c.started_by).where(INSTANCE.c.id == instance_id)).one_or_none()
        if row is None:
            raise InstanceNotFound(f"no instance with id {instance_id}")
        return process_privacy(engine.model(conn, row.definition_id), row.process_key, row.version), row.started_by


def redact_for(engine: Engine, detail: InstanceDetail, user: UserView) -> InstanceDetail:
    """`detail` as `user` may see it (personal fields masked outside their lanes; see `access_basis`)."""
    privacy, _ = instance_privacy(engine, detail.instance.id)
    return redact(detail, privacy, user)


def redact_labels(engine: Engine, views: list[InstanceView], user: UserView) -> list[InstanceView]:
    """Instance list rows as `user` may see them: the client label masked outside the process's lanes."""
    if user.roles & PRIVACY_ROLES:
        return views
    versions = {(v.key, v.version) for v in views if v.label}
    if not versions:
        return views
    with engine.sql_engine.connect() as conn:
        rows = conn.execute(select(DEFINITION.c.id, DEFINITION.c.key, DEFINITION.c.version).where(
            tuple_(DEFINITION.c.key, DEFINITION.c.version).in_(sorted(versions))))
        privacies = {(r.key, r.version): process_privacy(engine.model(conn, r.id), r.key, r.version) for r in rows}
    return [v if not v.label or access_basis(user, privacies[(v.key, v.version)], v.started_by)
            else replace(v, label=RESTRICTED) for v in views]


def label_scope(engine: Engine, user: UserView) -> LabelScope | None:
    """The labels `user` may search: those of process versions they have an access basis for, and of the cases
    they started; None (every label) for Admin and Compliance."""
    if user.roles & PRIVACY_ROLES:
        return None
    with engine.sql_engine.connect() as conn:
        rows = conn.execute(select(DEFINITION.c.id, DEFINITION.c.key, DEFINITION.c.version)).all()
        visible = frozenset(r.id for r in rows
                            if access_basis(user, process_privacy(engine.model(conn, r.id), r.key, r.version), None))
    return LabelScope(visible, user.username)


def task_holds_personal(engine: Engine, task: TaskView, context: dict[str, Any] | None = None) -> bool:
    """Whether a task's form asks for personal fields or its data (`context`) holds some."""
    privacy, _ = instance_privacy(engine, task.instance_id)
    paths = privacy.paths
    if not paths:
        return False
    form = (task.form or {}).get("key")
    if form and any(form in f.forms for f in privacy.fields):
        return True
    context = engine.task_context(task.id) if context is None else context
    return any(path.partition(".")[0] in context for path in paths)


def log_access(engine: Engine, user: UserView, channel: str, action: str, *, instance_id: int | None = None,
               task_id: str | None = None, subjects: list[int] | None = None, why: str | None = None) -> None:
    """Append one access-log entry now; for an instance without a `why`, the user's access basis is the why."""
    if why is None and instance_id is not None:
        privacy, started_by = instance_privacy(engine, instance_id)
        why = access_basis(user, privacy, started_by) or RESTRICTED_VIEW
    with engine.write_session.begin() as session:
        access_log.record(session.connection(), at=engine.clock.now(), actor=user.username, channel=channel,
                          action=action, instance_id=instance_id, task_id=task_id, subjects=subjects,
                          why=why or "")
