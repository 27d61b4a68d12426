"""The studio: process owners change processes without a developer (modeler, forms, validate, deploy, migrate)."""

from __future__ import annotations

from flask import Blueprint

from webapp.web.auth import require_login, role_required

PROCESS_OWNER = "Process Owner"

bp = Blueprint("studio", __name__, url_prefix="/studio")
require_login(bp)


@bp.before_request
@role_required(PROCESS_OWNER)
def _process_owners_only():
    return None
