"""The `external_task` rows: service tasks waiting for a worker, written with the instance's state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.core.db.models import Base, utcnow


class ExternalTask(Base):
    """One waiting service task: its topic, who holds its lock until when, and its retries and last failure."""

    __tablename__ = "external_task"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the SpiffWorkflow task id
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    process_key: Mapped[str] = mapped_column(String(120))
    definition_id: Mapped[int] = mapped_column(Integer)
    element_id: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(255), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    worker_id: Mapped[str | None] = mapped_column(String(255))
    # Locked by `worker_id` until then; without a worker, not offered before then (a failure's retry timeout).
    lock_expires_at: Mapped[datetime | None]
    retries: Mapped[int | None] = mapped_column(Integer)  # None until a worker reports a failure (as Camunda)
    error_message: Mapped[str | None] = mapped_column(String(1000))
    error_details: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
