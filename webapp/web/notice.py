"""The POPIA s18 collection notice of a process's start form, for the staff start page and the portal."""

from __future__ import annotations

from engine import privacy
from engine.privacy.notice import CollectionNotice, collection_notice
from flask import current_app

from webapp.extensions import get_engine


def notice_for(key: str) -> CollectionNotice | None:
    """The notice for starting `key` (None when its start form collects nothing personal)."""
    days = privacy.check_days(current_app.config.get("RETENTION_DAYS") or privacy.DEFAULT_RETENTION_DAYS)
    return collection_notice(get_engine(), key, days)


def responsible_party() -> str:
    return current_app.config["RESPONSIBLE_PARTY"]
