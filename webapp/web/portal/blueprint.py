"""The public client portal: log a complaint or suggestion, track a case, answer a survey or a request.

No sign-in. Every form carries a CSRF token (the app's CSRFProtect), every action is rate-limited (limits.py),
and pages show a case only as words and dates (engine/portal.py). docs/portal.md describes it for operators.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from webapp.web.portal.limits import RateLimited

bp = Blueprint("portal", __name__, url_prefix="/portal")

PROBLEMS = {
    400: ("We could not accept that", "Something in the request was not right. Nothing was saved."),
    404: ("Page not found", "There is nothing at this address."),
    405: ("Not possible here", "That action is not possible on this page."),
}


@bp.app_template_filter("client_date")
def client_date(value: datetime | None, with_time: bool = True) -> str:
    """A date the way people write it, e.g. '2 March 2026, 09:00 UTC'."""
    if value is None:
        return ""
    text = f"{value.day} {value:%B %Y}"
    return f"{text}, {value:%H:%M} UTC" if with_time else text


@bp.errorhandler(RateLimited)
def rate_limited(error: RateLimited):
    minutes = max(1, -(-error.retry_after // 60))
    return render_template("portal/limited.html", minutes=minutes), 429, {"Retry-After": str(error.retry_after)}


@bp.errorhandler(CSRFError)
def csrf_refused(error: CSRFError):
    return render_template("portal/problem.html", title="Please try again",
                           message="This form had expired or did not come from our site, so nothing was saved. "
                                   "Go back, reload the page and send it again."), 400


@bp.errorhandler(HTTPException)
def http_problem(error: HTTPException):
    title, message = PROBLEMS.get(error.code, ("Something went wrong", "Please try again later."))
    return render_template("portal/problem.html", title=title, message=message), error.code or 500
