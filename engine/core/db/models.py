"""The relational model: the database is the only source of truth."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    # On SQLite the value is text. SQLAlchemy formats and parses it in Python; `isoformat`/`fromisoformat`
    # write and read the very same "YYYY-MM-DD HH:MM:SS.ffffff" in C, several times faster - and a step of
    # the engine converts a dozen of them.
    def bind_processor(self, dialect):
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value):
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        return process

    def result_processor(self, dialect, coltype):
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value):
            if value is None:
                return None
            return datetime.fromisoformat(value).replace(tzinfo=UTC) if isinstance(value, str) else \
                self.process_result_value(value, dialect)
        return process


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Role(Base):
    __tablename__ = "role"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    description: Mapped[str] = mapped_column(String(255), default="")


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Base32 TOTP secret once the user enrolled a second factor (docs/operations.md, sign-in).
    totp_secret: Mapped[str | None] = mapped_column(String(64))


class UserRole(Base):
    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    role_name: Mapped[str] = mapped_column(ForeignKey("role.name", ondelete="CASCADE"), primary_key=True)


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80), default="")
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # What the token may do (engine/core/tokens.py SCOPES) and, when set, the only process keys it may touch.
    scopes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    process_keys: Mapped[list[Any] | None] = mapped_column(JSON)


class UserSession(Base):
    """A signed-in browser session; the cookie holds only its random id, the row holds its hash and times."""

    __tablename__ = "user_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class ProcessDefinition(Base):
    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255), default="")
    process_id: Mapped[str] = mapped_column(String(255))
    # Every file of the deployed bundle (BPMN, DMN, forms) by file name: the version is self-contained.
    files: Mapped[dict[str, Any]] = mapped_column(JSON)
    checksum: Mapped[str] = mapped_column(String(64))
    deployed_at: Mapped[datetime] = mapped_column(default=utcnow)
    deployed_by: Mapped[str | None] = mapped_column(String(80))
    # How the files are read (engine/core/dialects.py); None on versions deployed before dialects = "spiff".
    dialect: Mapped[str | None] = mapped_column(String(20))


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    __table_args__ = (
        Index("ix_process_instance_status_key", "status", "process_key"),
        # Reports select cases opened / closed in a date range (engine/reports.py).
        Index("ix_process_instance_started_at", "started_at"),
        Index("ix_process_instance_ended_at", "ended_at"),
        Index("ix_process_instance_key_started", "process_key", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(120))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="running")
    reference: Mapped[str | None] = mapped_column(String(40), unique=True)
    label: Mapped[str | None] = mapped_column(String(255), index=True)
    started_by: Mapped[str | None] = mapped_column(String(80))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(20))
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    error_message: Mapped[str | None] = mapped_column(Text)
    error_element_id: Mapped[str | None] = mapped_column(String(255))
    error_line: Mapped[int | None] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": lock_version}


class HumanTask(Base):
    __tablename__ = "human_task"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    process_key: Mapped[str] = mapped_column(String(120))
    element_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    lane: Mapped[str | None] = mapped_column(String(120), index=True)
    form_key: Mapped[str | None] = mapped_column(String(255))
    ui_form_key: Mapped[str | None] = mapped_column(String(255))
    claimed_by: Mapped[str | None] = mapped_column(String(80))  # indexed first in the inbox order
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    # The inbox order (soonest due first, undated last) as one non-null column, so an index can serve it:
    # "ORDER BY due_at IS NULL, due_at" sorts every open task before the first page is known.
    sort_due: Mapped[datetime] = mapped_column(default=lambda: NO_DUE_DATE)
    # A sign-off (`separationOfDutiesFrom`): the element ids whose completers may not claim, see or complete it.
    separate_from: Mapped[str | None] = mapped_column(String(400))

    # The inbox order, in two partial indexes that each row is in exactly one of (so a step writes no more index
    # entries than with one): "mine" walks the claimed one from `claimed_by = user`, "group" the unclaimed one from
    # its start. One index on (claimed_by, sort_due, ...) served both on SQLite, but PostgreSQL does not take
    # `claimed_by IS NULL` as fixing the first column, so it sorted every open task for the group inbox.
    # On SQLite the rows live in the primary key's b-tree (no separate rowid table): a step that closes one
    # task and opens the next writes one page fewer.
    __table_args__ = (Index("ix_human_task_claimed_order", "claimed_by", "sort_due", "created_at", "id",
                            sqlite_where=text("claimed_by IS NOT NULL"),
                            postgresql_where=text("claimed_by IS NOT NULL")),
                      Index("ix_human_task_unclaimed_order", "sort_due", "created_at", "id",
                            sqlite_where=text("claimed_by IS NULL"), postgresql_where=text("claimed_by IS NULL")),
                      {"sqlite_with_rowid": False})


NO_DUE_DATE = datetime(9999, 1, 1, tzinfo=UTC)


class Timer(Base):
    __tablename__ = "timer"
    __table_args__ = (
        UniqueConstraint("instance_id", "task_id", "due_at"),
        Index("ix_timer_pending", "fired_at", "cancelled_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    kind: Mapped[str] = mapped_column(String(20))
    interrupting: Mapped[bool] = mapped_column(Boolean, default=True)
    due_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    fired_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class Event(Base):
    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_kind_at", "kind", "at"),
        # Reports find each case's milestone events (acknowledged, resolved, ...) by element id.
        Index("ix_event_element_instance", "element_id", "instance_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(40))
    element_id: Mapped[str | None] = mapped_column(String(255))
    task_id: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Notification(Base):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_status_next", "status", "next_try_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_instance.id", ondelete="SET NULL"), index=True)
    template: Mapped[str] = mapped_column(String(80))
    recipient: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # Sent together with the recipient's other due digest rows, as one mail listing each (engine/sla/mailing.py).
    digest: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class InstanceFact(Base):
    """One reportable data value of an instance (engine/core/facts.py), so reports never deserialize a workflow."""

    __tablename__ = "instance_fact"
    __table_args__ = (Index("ix_instance_fact_name_value", "name", "value"),)

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"),
                                             primary_key=True)
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    number: Mapped[float | None] = mapped_column(Float)
    set_at: Mapped[datetime]


class ReferenceCounter(Base):
    """One row per reference prefix and year; incremented under a row lock."""

    __tablename__ = "reference_counter"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class AccessLogEntry(Base):
    """Append-only: who looked at (or exported) whose data, when and why (engine/privacy/access_log.py)."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_actor_at", "actor", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(30))
    # No foreign key: the record of an access outlives whatever was accessed.
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    subjects: Mapped[list[Any]] = mapped_column(JSON, default=list)
    why: Mapped[str] = mapped_column(String(500), default="")


class ErasureRequest(Base):
    """A request to erase the personal data of some ended instances; a second person approves it."""

    __tablename__ = "erasure_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    requested_by: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text)
    instance_ids: Mapped[list[Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)


class AnonymisedInstance(Base):
    """One row per instance whose personal data was erased (by request or by the retention job)."""

    __tablename__ = "anonymised_instance"

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"),
                                             primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    basis: Mapped[str] = mapped_column(String(20))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("erasure_request.id", ondelete="SET NULL"))
    fields: Mapped[int] = mapped_column(Integer, default=0)


class RateCounter(Base):
    """Requests counted per bucket (a hashed client or reference) and fixed time window: the portal's limits."""

    __tablename__ = "rate_counter"

    bucket: Mapped[str] = mapped_column(String(80), primary_key=True)
    window: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)


class LinkUse(Base):
    """A signed one-time link that was used; its token id is refused from then on."""

    __tablename__ = "link_use"

    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    used_at: Mapped[datetime] = mapped_column(default=utcnow)


class StudioDraft(Base):
    """A process owner's unsaved work on one process: the whole bundle being edited, per process key and user."""

    __tablename__ = "studio_draft"
    __table_args__ = (UniqueConstraint("process_key", "username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_key: Mapped[str] = mapped_column(String(120))
    username: Mapped[str] = mapped_column(String(80), index=True)
    files: Mapped[dict[str, Any]] = mapped_column(JSON)
    base_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
