"""The portal's promises in the client's words: "We will reply by Monday 14 December, 14:00", and a notice when
the office (PORTAL_CALENDAR, default za-office) is closed: after hours, at weekends, on public holidays."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app

from webapp.extensions import get_engine
from webapp.web.portal.blueprint import bp


@bp.app_template_filter("client_day_time")
def client_day_time(value: datetime) -> str:
    """'Monday 14 December, 14:00' in the display time zone (Africa/Johannesburg by default)."""
    local = value.astimezone(ZoneInfo(current_app.config.get("DISPLAY_TIMEZONE") or "Africa/Johannesburg"))
    return f"{local:%A} {local.day} {local:%B}, {local:%H:%M}"


def office_hours():
    """The office calendar now (open, why it is closed today, when it opens next)."""
    engine = get_engine()
    return engine.sla.office_hours(current_app.config.get("PORTAL_CALENDAR", "za-office"), engine.clock.now())
