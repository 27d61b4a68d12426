"""The client record and its links to cases, registered on the engine's one `Base`."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.core.db.models import Base, utcnow


class Client(Base):
    """One client (an organisation or a person): contacts, preferences, consent, relationship manager, SLA, KYC."""

    __tablename__ = "client_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="organisation")
    name: Mapped[str] = mapped_column(String(200))
    registration_number: Mapped[str | None] = mapped_column(String(40), index=True)
    contact_name: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(30))
    preferred_channel: Mapped[str] = mapped_column(String(20), default="email")
    consent_surveys: Mapped[bool] = mapped_column(Boolean, default=True)
    consent_marketing: Mapped[bool] = mapped_column(Boolean, default=False)
    relationship_manager: Mapped[str | None] = mapped_column(String(120))
    relationship_manager_email: Mapped[str | None] = mapped_column(String(254))
    sla_response_hours: Mapped[int | None] = mapped_column(Integer)
    sla_resolution_days: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="prospect")
    # KYC facts, written only by the processes (onboarding's risk table, the periodic kyc_review).
    risk_rating: Mapped[str | None] = mapped_column(String(10))
    kyc_review_interval: Mapped[str | None] = mapped_column(String(10))
    kyc_reviewed_on: Mapped[date | None] = mapped_column(Date)
    kyc_outcome: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(80))


class ClientCase(Base):
    """A case (process instance) of a client, and how it was matched to them."""

    __tablename__ = "client_case"

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"),
                                             primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client_record.id", ondelete="CASCADE"), index=True)
    matched_on: Mapped[str] = mapped_column(String(30))
    # The client's e-mail address as the case recorded it: mails the case still sends there go to the record's
    # current address instead, so a correction made once on the record reaches every case.
    case_email: Mapped[str | None] = mapped_column(String(254))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    linked_by: Mapped[str | None] = mapped_column(String(80))


class ClientDocument(Base):
    """A file uploaded for a case: a document (ID, registration, tax, bank letter, contract) or an attachment
    (kind `attachment`, on the case or one of its tasks). Kept out of the workflow state, which holds only a
    document's reference (`doc-<id>`); the content is erased with the case or the client."""

    __tablename__ = "client_document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    filename: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    expires_on: Mapped[date | None] = mapped_column(Date)
    uploaded_by: Mapped[str | None] = mapped_column(String(80))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The task an attachment was added on, and its name then (the task's row goes when it is completed).
    task_id: Mapped[str | None] = mapped_column(String(36))
    task_name: Mapped[str | None] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
