"""The JSON API (`/api/v1`): bearer-token auth, JSON in and out, errors as JSON (see docs/api.md)."""

from webapp.web.api import (
    clients,  # noqa: F401, I001 - client-record routes register on `bp`
    documents,  # noqa: F401 - case files: list, upload, download
    reports,  # noqa: F401 - report tables as JSON
    routes,  # noqa: F401 - their routes register on `bp`
    sla,  # noqa: F401 - escalate now
)
from webapp.web.api.blueprint import bp

__all__ = ["bp"]
