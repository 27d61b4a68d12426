"""Signed one-time links for clients: the satisfaction survey, and replies into a running case.

A link holds a token signed with the app's SECRET_KEY (itsdangerous, salted per purpose, so a reply token never
passes as a survey token) that names the case, what the link does and when it expires. Using a link records it in
`link_use`; a recorded link is refused. Survey links are recorded per case, so however many invitations were
sent, a case gets one survey answer; reply links are recorded each on its own, so every request for information
gets its own answer. Expiry is checked against the engine's clock.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from engine.core.db.models import LinkUse
from flask import current_app, has_request_context, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from webapp.extensions import get_engine

SURVEY, REPLY = "survey", "reply"
ENDPOINTS = {SURVEY: "portal.survey", REPLY: "portal.reply"}
DEFAULT_LIFETIMES = {SURVEY: timedelta(days=30), REPLY: timedelta(days=14)}
DEFAULT_SURVEY_PROCESS = "feedback"


class LinkRefused(Exception):
    """A link that cannot be used: `reason` is 'invalid', 'expired' or 'used'."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Link:
    """What a valid token says: the purpose, the case, the target (a process key or a message name)."""

    purpose: str
    instance_id: int
    target: str
    nonce: str

    @property
    def use_id(self) -> str:
        return f"{SURVEY}:{self.instance_id}" if self.purpose == SURVEY else f"{self.purpose}:{self.nonce}"


def _serializer(purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"clientflow.portal.{purpose}")


def _lifetime(purpose: str) -> timedelta:
    configured = (current_app.config.get("PORTAL_LINK_LIFETIMES") or {}).get(purpose)
    return timedelta(seconds=configured) if configured is not None else DEFAULT_LIFETIMES[purpose]


def make_token(purpose: str, instance_id: int, target: str) -> str:
    """A signed token for one case; it expires after the purpose's lifetime."""
    expires = get_engine().clock.now() + _lifetime(purpose)
    body = {"i": int(instance_id), "t": target, "n": secrets.token_urlsafe(9), "e": int(expires.timestamp())}
    return _serializer(purpose).dumps(body)


def read_token(purpose: str, token: str) -> Link:
    """The link a token stands for; raises LinkRefused when it is forged, expired or used already."""
    try:
        body = _serializer(purpose).loads(token)
        link = Link(purpose, int(body["i"]), str(body["t"]), str(body["n"]))
        expires = int(body["e"])
    except (BadSignature, KeyError, TypeError, ValueError) as err:
        raise LinkRefused("invalid") from err
    if get_engine().clock.now().timestamp() >= expires:
        raise LinkRefused("expired")
    if was_used(link):
        raise LinkRefused("used")
    return link


def was_used(link: Link) -> bool:
    with get_engine().read_session() as session:
        return session.scalar(select(LinkUse.token_id).where(LinkUse.token_id == link.use_id)) is not None


def claim(link: Link) -> None:
    """Record the link as used before acting on it; a concurrent second use fails here (LinkRefused 'used')."""
    engine = get_engine()
    try:
        with engine.write_session.begin() as session:
            session.add(LinkUse(token_id=link.use_id, purpose=link.purpose, instance_id=link.instance_id,
                                used_at=engine.clock.now()))
    except IntegrityError as err:
        raise LinkRefused("used") from err


def release(link: Link) -> None:
    """Undo `claim` when the engine refused the answer, so nothing changed and the link still works."""
    with get_engine().write_session.begin() as session:
        session.execute(delete(LinkUse).where(LinkUse.token_id == link.use_id))


# -- absolute links for mails -----------------------------------------------------------------------------

def external_url(endpoint: str, **values) -> str:
    """An absolute URL: from PUBLIC_URL when set (workers have no request), else from the current request."""
    public = current_app.config.get("PUBLIC_URL")
    if public:
        parts = urlsplit(public)
        adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme)
        return adapter.build(endpoint, values, force_external=True)
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    raise RuntimeError("PUBLIC_URL is not set, so links for mails cannot be made outside a web request")


def survey_link(instance_id: int, process: str | None = None) -> str:
    """The signed one-time survey link for a case; answering it starts `process` (the survey process)."""
    target = process or current_app.config.get("PORTAL_SURVEY_PROCESS") or DEFAULT_SURVEY_PROCESS
    return external_url(ENDPOINTS[SURVEY], token=make_token(SURVEY, instance_id, target))


def reply_link(instance_id: int, message: str) -> str:
    """The signed one-time link on which a client answers a case waiting for message `message`."""
    return external_url(ENDPOINTS[REPLY], token=make_token(REPLY, instance_id, message))


def status_link(reference: str) -> str:
    """The portal's status page with the reference filled in (the client still gives their e-mail)."""
    return external_url("portal.track", reference=reference)


def mail_links(template: str, instance_id: int | None, payload: dict) -> dict[str, str]:
    """Portal links a notification's mail may show: `status_url`, and `survey_url` / `reply_url` when asked for.

    A survey invitation gets a survey link (its `survey` field may name the survey process); a mail whose
    payload names `reply_message` gets a reply link for that message. Empty without PUBLIC_URL outside a request,
    so mails still go out, without links."""
    if not current_app.config.get("PUBLIC_URL") and not has_request_context():
        return {}
    links = {}
    if payload.get("reference"):
        links["status_url"] = status_link(str(payload["reference"]))
    if instance_id is not None and template == "survey_invitation":
        survey = payload.get("survey")
        links["survey_url"] = survey_link(instance_id, survey if isinstance(survey, str) and survey else None)
    if instance_id is not None and isinstance(payload.get("reply_message"), str):
        links["reply_url"] = reply_link(instance_id, payload["reply_message"])
    return links
