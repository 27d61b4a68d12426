"""Tables of the case-work feature, on the engine's one `Base` (migrations in webapp/migrations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
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
