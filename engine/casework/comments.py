"""Internal comments on a case, with @mentions that mail the colleagues they name (the mail holds no comment text)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import insert, select

from engine.casework.models import CaseComment
from engine.core.db.models import Event, Notification, ProcessInstance
from engine.core.unit_of_work import SaveResult
from engine.core.users import UserView, get_user
from engine.errors import InstanceNotFound, InvalidInput, UserNotFound

if TYPE_CHECKING:
    from engine.core.services import Services

MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9_.-]*[A-Za-z0-9_])")
MAX_BODY = 4000
MAX_MENTIONS = 10
MENTION_TEMPLATE = "comment_mention"
COMMENTED = "comment_added"
COMMENTS, NOTE = CaseComment.__table__, Notification.__table__


@dataclass(frozen=True)
class Comment:
    id: int
    author: str
    body: str
    mentions: list[str]
    created_at: datetime


def mentioned(body: str) -> list[str]:
    """The user names a comment mentions (`@name`), in order, without repeats."""
    return list(dict.fromkeys(MENTION.findall(body)))


def of_case(conn, instance_id: int) -> list[Comment]:
    rows = conn.execute(select(COMMENTS).where(COMMENTS.c.instance_id == instance_id)
                        .order_by(COMMENTS.c.created_at, COMMENTS.c.id)).all()
    return [Comment(r.id, r.author, r.body, list(r.mentions or []), r.created_at) for r in rows]


def add(services: Services, instance_id: int, body: str, author: UserView) -> Comment:
    """Save a comment and mail each mentioned colleague; an unknown or inactive @name refuses the whole comment."""
    body = (body or "").strip()
    if not body or len(body) > MAX_BODY:
        raise InvalidInput(f"write a comment of 1 to {MAX_BODY} characters")
    names = mentioned(body)
    if len(names) > MAX_MENTIONS:
        raise InvalidInput(f"a comment may mention at most {MAX_MENTIONS} people")
    now = services.clock.now()
    with services.write_connection() as conn:
        case = conn.execute(select(ProcessInstance.reference, ProcessInstance.status, ProcessInstance.definition_id)
                            .where(ProcessInstance.id == instance_id)).one_or_none()
        if case is None:
            raise InstanceNotFound(f"no instance with id {instance_id}")
        people = []
        for name in names:
            try:
                person = get_user(conn, name)
            except UserNotFound as err:
                raise InvalidInput(f"there is no colleague called @{name}; nothing was saved") from err
            if not person.active:
                raise InvalidInput(f"@{name} is not an active user; nothing was saved")
            people.append(person)
        comment_id = conn.execute(insert(COMMENTS).returning(COMMENTS.c.id).values(
            instance_id=instance_id, author=author.username, body=body, mentions=names, created_at=now)).scalar_one()
        mails = [conn.execute(insert(NOTE).returning(NOTE.c.id).values(
            instance_id=instance_id, template=MENTION_TEMPLATE, recipient=person.email, status="pending", attempts=0,
            next_try_at=now, created_at=now, payload={"reference": case.reference, "author": author.display_name
                                                      or author.username, "recipient_name": person.display_name}))
            .scalar_one() for person in people if person.email and person.username != author.username]
        conn.execute(insert(Event).values(instance_id=instance_id, at=now, actor=author.username, kind=COMMENTED,
                                          detail={"comment_id": comment_id, "mentions": names}))
    if mails:
        services.notify_saved([SaveResult(instance_id, case.status, case.definition_id, [], mails)])
    return Comment(comment_id, author.username, body, names, now)
