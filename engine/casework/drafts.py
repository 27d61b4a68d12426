"""Drafts of task forms: answers a user saved without submitting, or that were kept when their session ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.casework.models import TaskDraft
from engine.core import tasks
from engine.errors import InvalidInput, TaskNotFound

REASONS = ("draft", "expired")
MAX_ANSWERS = 200
MAX_VALUE = 20_000


@dataclass(frozen=True)
class Draft:
    task_id: str
    answers: dict[str, list[str]]
    reason: str
    saved_at: datetime


def clean_answers(answers: dict[str, list[str]]) -> dict[str, list[str]]:
    """Posted form values (name -> values) as a draft keeps them: bounded, text only."""
    if len(answers) > MAX_ANSWERS:
        raise InvalidInput(f"a draft may keep at most {MAX_ANSWERS} fields")
    kept = {}
    for name, values in answers.items():
        if not isinstance(name, str) or not all(isinstance(v, str) for v in values):
            raise InvalidInput("a draft keeps text values only")
        if sum(len(v) for v in values) > MAX_VALUE:
            raise InvalidInput(f"the field {name!r} is too long to keep as a draft")
        kept[name] = list(values)
    return kept


def save(session: Session, username: str, task_id: str, answers: dict[str, list[str]], reason: str,
         now: datetime) -> Draft:
    """Keep the user's answers for an open task (replacing an earlier draft of theirs)."""
    if reason not in REASONS:
        raise InvalidInput(f"a draft's reason is one of {', '.join(REASONS)}")
    human = tasks.get_row(session.connection(), task_id)
    if human is None:
        raise TaskNotFound(f"no open task with id {task_id}")
    kept = clean_answers(answers)
    row = session.scalar(select(TaskDraft).where(TaskDraft.username == username, TaskDraft.task_id == task_id))
    if row is None:
        row = TaskDraft(username=username, task_id=task_id, instance_id=human.instance_id)
        session.add(row)
    row.answers, row.reason, row.saved_at = kept, reason, now
    session.flush()
    return Draft(task_id, kept, reason, now)


def get(session: Session, username: str, task_id: str) -> Draft | None:
    row = session.scalar(select(TaskDraft).where(TaskDraft.username == username, TaskDraft.task_id == task_id))
    return Draft(row.task_id, dict(row.answers), row.reason, row.saved_at) if row else None


def discard(session: Session, task_id: str, username: str | None = None) -> None:
    """Drop the drafts of a task (all users' when the task was completed, else one user's)."""
    stmt = delete(TaskDraft).where(TaskDraft.task_id == task_id)
    if username is not None:
        stmt = stmt.where(TaskDraft.username == username)
    session.execute(stmt)
