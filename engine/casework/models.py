"""Tables of the case-work feature, on the engine's one `Base` (migrations in webapp/migrations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.core.db.models import Base, utcnow


class SavedView(Base):
    """A named inbox view of one user: the filters, search and sort it opens with."""

    __tablename__ = "saved_view"
    __table_args__ = (UniqueConstraint("username", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    name: Mapped[str] = mapped_column(String(60))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskDraft(Base):
    """Answers typed into a task's form and not yet submitted: saved as a draft, or kept when the session ended."""

    __tablename__ = "task_draft"
    __table_args__ = (UniqueConstraint("username", "task_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    task_id: Mapped[str] = mapped_column(String(36), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(20))  # "draft" (saved by the user) or "expired" (session ended)
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseComment(Base):
    """An internal note on a case, for staff only; `mentions` are the users it notified."""

    __tablename__ = "case_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseSearchValue(Base):
    """The text of one searchable field of a case (engine/casework/search_fields.py), for the inbox search."""

    __tablename__ = "case_search_value"

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"),
                                             primary_key=True)
    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    personal: Mapped[bool] = mapped_column(Boolean, default=False)
