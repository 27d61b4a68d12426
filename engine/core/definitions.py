"""Deployed process definitions: versioning, and the parsed-spec cache per (key, version)."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.orm import Session

from engine.core import bundle, model_checks
from engine.core.db.database import connection_of
from engine.core.db.models import ProcessDefinition, ProcessInstance, utcnow
from engine.core.db.prepared import Prepared
from engine.core.dialects import dialects_of, refuse_blocking
from engine.errors import InvalidInput, InvalidModel, ProcessNotFound
from engine.results import DeployResult, ProcessView

if TYPE_CHECKING:
    from engine.core.services import Services

_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,119}$")


def key_from_path(path: Path) -> str:
    """The default key of a model file (`Order Intake.bpmn20.xml` -> `order_intake`) or folder."""
    return model_checks.valid_key(bundle.stem(path) if path.is_file() else path.name)


class ModelCache:
    """Built specs by definition id; a definition never changes once deployed, so entries never go stale."""

    def __init__(self, size: int = 64):
        self._items: OrderedDict[int, bundle.BuiltModel] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, definition_id: int) -> bundle.BuiltModel | None:
        with self._lock:
            model = self._items.get(definition_id)
            if model is not None:
                self._items.move_to_end(definition_id)
            return model

    def put(self, definition_id: int, model: bundle.BuiltModel) -> None:
        with self._lock:
            self._items[definition_id] = model
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def deploy_files(services: Services, session: Session, files: dict[str, str], key: str,
                 by: str | None, *, dialect: str | None = None, allow_ignored: bool = False) -> DeployResult:
    """Validate a bundle and store it as the next version of `key` (or return the identical latest one).

    `dialect` names how to read the bundle (default: detected); an extension the dialect would ignore although it
    changes behaviour refuses the deploy unless `allow_ignored` (engine/core/dialects.py)."""
    if not _KEY.match(key or ""):
        raise InvalidInput(f"invalid process key {key!r}: use lower-case letters, digits, _ or -")
    files = with_called_processes(session, files)
    model = bundle.build_model(files, key, dialects=dialects_of(services), dialect=dialect)
    if not allow_ignored:
        refuse_blocking(model.compat)
    services.forms.check_model(model)
    digest = bundle.checksum(files)
    latest = session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == key)
                            .order_by(ProcessDefinition.version.desc()).limit(1))
    compat = [item.as_dict() for item in model.compat]
    if latest is not None and latest.checksum == digest and (latest.dialect or "spiff") == model.dialect:
        return DeployResult(key, latest.version, [latest.process_id, *_called(model)], created=False,
                            dialect=model.dialect, compat=compat)
    row = ProcessDefinition(key=key, version=(latest.version + 1) if latest else 1, name=model.name,
                            process_id=model.process_id, files=files, checksum=digest, deployed_at=utcnow(),
                            deployed_by=by, dialect=model.dialect)
    session.add(row)
    session.flush()
    services.models.put(row.id, model)
    return DeployResult(key, row.version, [model.process_id, *_called(model)], created=True,
                        dialect=model.dialect, compat=compat)


def with_called_processes(session: Session, files: dict[str, str]) -> dict[str, str]:
    """The bundle plus, for each call activity calling a process the bundle does not hold, the files of the newest
    deployed version whose main process has that id (as Camunda resolves a called element by key among deployed
    processes). They are stored with the caller's version, so it always calls the version it was deployed with;
    BPMN and DMN files go under `called/<key>/`, form files keep their names (the caller's own win)."""
    defined, calls = set(), set()
    for name, text in files.items():
        if name.endswith(".bpmn"):
            root = bundle.parse_xml(text, name)
            defined.update(p.get("id") for p in root.iter(f"{{{bundle.BPMN_NS}}}process"))
            calls.update(c.get("calledElement") for c in root.iter(f"{{{bundle.BPMN_NS}}}callActivity"))
    found = dict(files)
    for process_id in sorted(c for c in calls - defined if c):
        row = session.scalar(select(ProcessDefinition).where(ProcessDefinition.process_id == process_id)
                             .order_by(ProcessDefinition.id.desc()).limit(1))
        for name, text in (row.files if row is not None else {}).items():  # none: the parser names the process
            if name.endswith(bundle.MODEL_SUFFIXES):
                found[f"called/{row.key}/{name}"] = text
            else:
                found.setdefault(name, text)
    return found


def _called(model: bundle.BuiltModel) -> list[str]:
    return sorted(model.subprocess_specs)


_DEFINITION = ProcessDefinition.__table__
_LATEST = Prepared(select(_DEFINITION.c.id, _DEFINITION.c.key, _DEFINITION.c.version)
                   .where(_DEFINITION.c.key == bindparam("key")).order_by(_DEFINITION.c.version.desc()).limit(1))


def latest(db: Session | Connection, key: str):
    """Id, key and version of the newest version of `key`."""
    return latest_from_rows(key, _LATEST.all(connection_of(db), {"key": key}))


def latest_read(key: str) -> tuple[Prepared, dict[str, str]]:
    """The statement `latest` runs, for reading it together with others (`prepared.all_together`)."""
    return _LATEST, {"key": key}


def latest_from_rows(key: str, rows: list):
    if not rows:
        raise ProcessNotFound(f"no process deployed under key {key!r}")
    return rows[0]


def get_version(session: Session, key: str, version: int) -> ProcessDefinition:
    row = session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == key,
                                                         ProcessDefinition.version == version))
    if row is None:
        raise ProcessNotFound(f"process {key!r} has no version {version}")
    return row


def model_for(services: Services, db, definition_id: int) -> bundle.BuiltModel:
    """Built specs of a stored version, from the cache or parsed once; `db` is a Session or a Connection."""
    model = services.models.get(definition_id)
    if model is None:
        row = connection_of(db).execute(select(_DEFINITION).where(_DEFINITION.c.id == definition_id)).one_or_none()
        if row is None:
            raise ProcessNotFound(f"no process definition with id {definition_id}")
        try:
            model = bundle.build_model(row.files, row.key, validate=False, dialects=dialects_of(services),
                                       dialect=row.dialect or "spiff")
        except InvalidModel as err:  # pragma: no cover - it was valid when deployed
            raise InvalidModel(f"stored version {row.key} v{row.version} no longer parses: {err}") from err
        services.models.put(definition_id, model)
    return model


def list_processes(session: Session, all_versions: bool = False) -> list[ProcessView]:
    # The listed columns only: a whole row carries the model's files (every BPMN and form), read for nothing.
    query = select(ProcessDefinition.key, ProcessDefinition.version, ProcessDefinition.name,
                   ProcessDefinition.deployed_at, ProcessDefinition.deployed_by, ProcessDefinition.id
                   ).order_by(ProcessDefinition.key, ProcessDefinition.version)
    if not all_versions:
        newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("v"))
                  .group_by(ProcessDefinition.key).subquery())
        query = query.join(newest, (ProcessDefinition.key == newest.c.key)
                           & (ProcessDefinition.version == newest.c.v))
    return [ProcessView(r.key, r.version, r.name, r.deployed_at, r.deployed_by, r.id)
            for r in session.execute(query)]


def running_counts(session: Session, key: str) -> dict[int, int]:
    """Running instances per version of a process."""
    rows = session.execute(select(ProcessInstance.version, func.count()).where(
        ProcessInstance.process_key == key, ProcessInstance.status.in_(("running", "error")))
        .group_by(ProcessInstance.version))
    return {version: count for version, count in rows}
