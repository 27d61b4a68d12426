"""Mail: SMTP settings from `SMTP_URL`, Jinja templates (plain text + HTML), and sending one message.

`SMTP_URL` is `smtp://[user:password@]host[:port][?starttls=1&timeout=30]` or `smtps://...` (TLS from the first
byte). Templates live in `templates/mail/<name>.txt` and `<name>.html`; the text template's `subject` block is the
subject. Fields a template does not use are ignored, and fields it uses but did not get render as blanks or
neutral wording, so a model passing a little more or less data still sends a sensible mail.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from jinja2 import ChainableUndefined, Environment, PackageLoader, TemplateNotFound, select_autoescape

TEMPLATES = ("complaint_acknowledgement", "status_update", "sla_warning", "escalation", "welcome_package",
             "compliance_decision", "checkin_reminder", "survey_invitation")
NAME_FIELDS = ("recipient_name", "name", "client_name", "customer_name", "contact_name", "submitter_name",
               "first_name", "company_name")
_TRUE = {"1", "true", "yes", "on"}


class UnknownTemplate(Exception):
    """No mail template with that name."""


class TemporaryFailure(Exception):
    """Sending failed in a way worth trying again (4xx reply, no connection, timeout)."""


class PermanentFailure(Exception):
    """The server refused the message for good (5xx reply); `reason` is the server's answer."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False
    starttls: bool = False
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:password@host:port?starttls=1 or smtps://...")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        tls = parts.scheme == "smtps"
        return cls(host=parts.hostname, port=parts.port or (465 if tls else 25),
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None,
                   tls=tls, starttls=query.get("starttls", "").lower() in _TRUE,
                   timeout=float(query.get("timeout", 30)))


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def _when(value: Any) -> Any:
    """Show ISO date-times from process data the way people write them; anything else unchanged."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        zone = f" {value.tzname()}" if value.tzinfo else ""
        return value.strftime("%d %b %Y %H:%M") + zone if (value.hour, value.minute) != (0, 0) \
            else value.strftime("%d %b %Y")
    return value


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The mail templates' Jinja environment (HTML autoescaped; a missing field is blank, never an error)."""
    env = Environment(loader=PackageLoader("webapp", "templates/mail"), autoescape=select_autoescape(["html"]),
                      undefined=ChainableUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = _when
    return env


def _context(fields: dict[str, Any]) -> dict[str, Any]:
    name = next((str(fields[k]).strip() for k in NAME_FIELDS if str(fields.get(k) or "").strip()), "")
    return {**fields, "recipient_name": name}


def render(template: str, fields: dict[str, Any]) -> RenderedMail:
    env = environment()
    try:
        text = env.get_template(f"{template}.txt")
        html = env.get_template(f"{template}.html")
    except TemplateNotFound as err:
        raise UnknownTemplate(f"no mail template named {template!r}") from err
    context = _context(fields)
    subject_block = text.blocks.get("subject")
    subject = "".join(subject_block(text.new_context(context))) if subject_block else template.replace("_", " ")
    # Process data may hold line breaks; a header may not.
    subject = re.sub(r"\s+", " ", subject).strip()
    body = re.sub(r"\n{3,}", "\n\n", text.render(context)).strip() + "\n"
    return RenderedMail(subject, body, html.render({**context, "subject": subject}))


DIGEST_TEMPLATE = "sla_digest"


def render_digest(items: list[tuple[RenderedMail, dict[str, Any]]]) -> RenderedMail:
    """One mail listing several (rendered mail, its fields): each item's subject, reason, due time and link."""
    listed = [{"subject": rendered.subject, "reason": fields.get("reason"), "due_at": fields.get("due_at"),
               "task_url": fields.get("task_url") or fields.get("case_url")} for rendered, fields in items]
    cases = len({fields.get("reference") or rendered.subject for rendered, fields in items})
    return render(DIGEST_TEMPLATE, {"items": listed, "cases": cases})


def build_message(mail: RenderedMail, *, sender: str, recipient: str, message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


def sender_domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "clientflow.local"


def _reply(code: int, text: bytes | str) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(text.split())}"


def _failure(code: int, text: bytes | str) -> Exception:
    reason = _reply(code, text)
    return PermanentFailure(reason) if 500 <= code < 600 else TemporaryFailure(reason)


def send(settings: SmtpSettings, message: EmailMessage) -> None:
    """Hand one message to the SMTP server; raises PermanentFailure (5xx) or TemporaryFailure (anything else)."""
    try:
        if settings.tls:
            client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with client:
            if settings.starttls:
                client.starttls(context=ssl.create_default_context())
            if settings.username:
                client.login(settings.username, settings.password or "")
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as err:
        code, text = next(iter(err.recipients.values()))
        raise _failure(code, text) from None
    except smtplib.SMTPAuthenticationError as err:
        # A wrong password is our configuration, not the message: retry (and alert) rather than give up on it.
        raise TemporaryFailure(f"authentication failed: {_reply(err.smtp_code, err.smtp_error)}") from None
    except smtplib.SMTPResponseException as err:
        raise _failure(err.smtp_code, err.smtp_error) from None
    except (smtplib.SMTPException, OSError) as err:
        raise TemporaryFailure(f"{err.__class__.__name__}: {err}") from None
