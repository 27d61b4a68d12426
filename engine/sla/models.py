"""The SLA tables: one clock row per target per case, and the append-only SLA event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.core.db.models import Base


class SlaClock(Base):
    """A target's clock on one case; `clock` is `Clock.to_dict()`, the other columns are copies for lists."""

    __tablename__ = "sla_clock"
    # The inbox's SLA filters ask "has this case a clock that is ... at now": (instance_id, state, due_at) answers it
    # from the index. With instance_id alone, SQLite's planner walked every running past-due clock for each task.
    __table_args__ = (UniqueConstraint("instance_id", "target"), Index("ix_sla_clock_state_due", "state", "due_at"),
                      Index("ix_sla_clock_instance_state_due", "instance_id", "state", "due_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime | None]  # None while paused or stopped
    breached: Mapped[bool] = mapped_column(Boolean, default=False)
    level: Mapped[str | None] = mapped_column(String(80))  # who holds the case on the ladder now
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_reason: Mapped[str | None] = mapped_column(String(120))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    policy_version: Mapped[str] = mapped_column(String(40), default="")
    # Who the stopped clock is credited to: the lane and user of the step that met (or missed) it. Open clocks
    # are credited to whoever holds the case's open task now (read live by the reports).
    team: Mapped[str | None] = mapped_column(String(120))
    agent: Mapped[str | None] = mapped_column(String(80))
    clock: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class SlaEvent(Base):
    """One clock transition (applied, paused, resumed, warned, breached, met, recomputed), minutes in business time."""

    __tablename__ = "sla_event"
    __table_args__ = (Index("ix_sla_event_kind_at", "kind", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    target: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime | None]
    used_minutes: Mapped[int] = mapped_column(Integer, default=0)
    over_minutes: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(255))
    actor: Mapped[str | None] = mapped_column(String(80))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
