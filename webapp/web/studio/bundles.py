"""What the studio views share: the bundle a user is working on, JSON request bodies, JSON error answers."""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import InvalidInput, InvalidModel
from engine.results import ProcessView
from flask import abort, jsonify, request
from flask_login import current_user

from webapp.extensions import get_engine

MAX_JSON_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True)
class WorkingBundle:
    """The files a user edits: their draft if they have one, else the newest deployed version."""

    key: str
    files: dict[str, str]
    base_version: int | None
    is_draft: bool

    @property
    def bpmn_files(self) -> list[str]:
        """BPMN file names, the process's own file first."""
        return sorted((n for n in self.files if n.endswith(".bpmn")), key=lambda n: (n != f"{self.key}.bpmn", n))

    @property
    def form_files(self) -> list[str]:
        return sorted(n for n in self.files if n.endswith(".json"))


def versions_of(key: str) -> list[ProcessView]:
    """Every deployed version of `key`, newest first (404 when there is none)."""
    found = [p for p in get_engine().processes(all_versions=True) if p.key == key]
    if not found:
        abort(404, description=f"No process is deployed under the key {key!r}.")
    return sorted(found, key=lambda p: p.version, reverse=True)


def working_bundle(key: str) -> WorkingBundle:
    """The signed-in user's draft of `key`, or the newest deployed version (404 when neither exists)."""
    engine = get_engine()
    draft = engine.draft(key, current_user.username)
    if draft is not None:
        return WorkingBundle(key, draft.files, draft.base_version, True)
    latest = versions_of(key)[0]
    return WorkingBundle(key, engine.definition_files(key, latest.version), latest.version, False)


def json_body() -> dict:
    """The request's JSON object (400 with the reason otherwise)."""
    if request.content_length and request.content_length > MAX_JSON_BYTES:
        abort(413, description="The request is too large.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("send a JSON object (Content-Type: application/json)")
    return body


def files_of(body: dict) -> dict[str, str]:
    files = body.get("files")
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise InvalidInput("'files' must map file names to their text")
    return files


def base_version_of(body: dict) -> int | None:
    value = body.get("base_version")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidInput("'base_version' must be a whole number or null")
    return value


def model_error(err: InvalidModel | InvalidInput):
    """A JSON answer naming what is wrong (and where, for a model): 422 for a model, 400 for a malformed request."""
    status = 422 if isinstance(err, InvalidModel) else 400
    problems = getattr(err, "problems", None) or [{"message": str(err)}]
    return jsonify({"error": {"status": status, "message": str(err), "problems": problems}}), status
