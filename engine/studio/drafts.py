"""Studio drafts: the bundle a process owner is editing, kept per process key and user until deployed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import quoteattr

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.core.archive import check_files
from engine.core.db.models import StudioDraft
from engine.errors import InvalidInput

KEY = re.compile(r"^[a-z][a-z0-9_-]{0,119}$")


@dataclass(frozen=True)
class Draft:
    """A saved draft: every file of the bundle, and the deployed version it started from (None if new)."""

    key: str
    username: str
    files: dict[str, str]
    base_version: int | None
    updated_at: datetime

    def as_dict(self) -> dict:
        return {"key": self.key, "username": self.username, "files": self.files, "base_version": self.base_version,
                "updated_at": self.updated_at.isoformat()}


def check_key(key: str) -> str:
    if not isinstance(key, str) or not KEY.match(key):
        raise InvalidInput(f"invalid process key {key!r}: start with a lower-case letter, then use lower-case "
                           "letters, digits, _ or - (at most 120)")
    return key


def _view(row: StudioDraft) -> Draft:
    return Draft(row.process_key, row.username, dict(row.files), row.base_version, row.updated_at)


def _row(session: Session, key: str, username: str) -> StudioDraft | None:
    return session.scalar(select(StudioDraft).where(StudioDraft.process_key == key,
                                                    StudioDraft.username == username))


def save(session: Session, key: str, username: str, files: dict[str, str], base_version: int | None,
         now: datetime) -> Draft:
    """Create or replace the user's draft of `key` (files are checked: names, sizes, safe XML, JSON)."""
    check_key(key)
    files = check_files(files)
    if base_version is not None and (not isinstance(base_version, int) or base_version < 1):
        raise InvalidInput("base_version must be a positive whole number or null")
    row = _row(session, key, username)
    if row is None:
        row = StudioDraft(process_key=key, username=username, created_at=now)
        session.add(row)
    row.files, row.base_version, row.updated_at = files, base_version, now
    session.flush()
    return _view(row)


def get(session: Session, key: str, username: str) -> Draft | None:
    row = _row(session, key, username)
    return _view(row) if row is not None else None


def of_user(session: Session, username: str) -> list[Draft]:
    rows = session.scalars(select(StudioDraft).where(StudioDraft.username == username)
                           .order_by(StudioDraft.process_key))
    return [_view(r) for r in rows]


def discard(session: Session, key: str, username: str) -> bool:
    """Drop the user's draft of `key`; whether there was one."""
    result = session.execute(delete(StudioDraft).where(StudioDraft.process_key == key,
                                                       StudioDraft.username == username))
    return bool(result.rowcount)


def blank_bundle(key: str, name: str) -> dict[str, str]:
    """A new process: one start event on a diagram bpmn-js can open, ready to be drawn on."""
    check_key(key)
    name = (name or "").strip() or key.replace("_", " ").capitalize()
    if len(name) > 200:
        raise InvalidInput("the process name is longer than 200 characters")
    return {f"{key}.bpmn": BLANK.format(key=key, name=quoteattr(name))}


BLANK = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
                  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="Definitions_{key}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{key}" name={name} isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="{key}">
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1">
        <dc:Bounds x="180" y="160" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""
