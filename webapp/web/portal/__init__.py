"""The public client portal: log a complaint or suggestion, track a case, answer a survey or a request."""

from webapp.web.portal import cases, links  # noqa: F401 - their routes register on `bp`
from webapp.web.portal.blueprint import bp

__all__ = ["bp"]
