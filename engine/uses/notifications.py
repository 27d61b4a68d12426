"""Use cases of the workers' mail side: the outbox's delivery lifecycle (engine/core/outbox.py)."""

from __future__ import annotations

from datetime import datetime

from engine.core import outbox


class NotificationUses:
    """Claim, send, defer and list outbox rows; mixed into `Engine`."""

    # -- notifications (the outbox's delivery lifecycle, engine/core/outbox.py) -----------------------------
    def claim_notification(self, notification_id: int, domain: str, *,
                           takeover: bool = False) -> outbox.Delivery | None:
        """Take an outbox row for one sending attempt (None when there is nothing to send now)."""
        return outbox.claim(self.services, notification_id, domain, takeover=takeover)

    def notification_sent(self, delivery: outbox.Delivery) -> None:
        outbox.mark_sent(self.services, delivery)

    def notification_logged(self, delivery: outbox.Delivery) -> None:
        outbox.mark_logged(self.services, delivery)

    def notification_failed(self, delivery: outbox.Delivery, reason: str) -> None:
        outbox.mark_failed(self.services, delivery, reason)

    def defer_notification(self, delivery: outbox.Delivery, reason: str, retry_at: datetime) -> None:
        outbox.defer(self.services, delivery, reason, retry_at)

    def due_notifications(self, until: datetime, limit: int = 1000) -> list[tuple[int, datetime | None]]:
        return outbox.due_notifications(self.services, until, limit)

    def notifications_in_flight(self, limit: int = 1000) -> list[int]:
        return outbox.in_flight(self.services, limit)

    def notification_status(self, notification_id: int) -> str | None:
        return outbox.status_of(self.services, notification_id)
