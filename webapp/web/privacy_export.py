"""The subject access bundle: one zip holding the record as JSON and as a page a person can read (plain words,
local times: engine/privacy/plain.py)."""

from __future__ import annotations

import io
import json
import zipfile

from engine.privacy import SubjectRecord
from engine.privacy.plain import plain_record
from flask import current_app, render_template

from webapp.extensions import get_engine

JSON_NAME = "subject-access.json"
HTML_NAME = "subject-access.html"


def bundle_name(record: SubjectRecord) -> str:
    return f"subject-access-{record.generated_at:%Y%m%d-%H%M%S}.zip"


def sar_bundle(record: SubjectRecord) -> bytes:
    """The zip bytes (rendering needs an app context, not a request)."""
    data = record.as_dict()
    page = render_template("privacy/export.html", p=plain_record(get_engine(), record),
                           zone=current_app.config.get("DISPLAY_TIMEZONE") or "Africa/Johannesburg")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(JSON_NAME, json.dumps(data, indent=2, ensure_ascii=False, default=str))
        archive.writestr(HTML_NAME, page)
    return buffer.getvalue()
