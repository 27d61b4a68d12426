"""Settings read from the environment, with defaults that run on one machine with nothing installed."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.clients.uploads import MB, UploadPolicy, scanner_from

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RESPONSIBLE_PARTY = "Clientflow customer service; contact our Information Officer at privacy@clientflow.example"


def _instance_secret(instance_path: Path) -> str:
    """SECRET_KEY from the instance folder, generated (mode 0600) on first run; never in the repo."""
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def from_environment(instance_path: Path) -> dict:
    """The app's configuration mapping; tests pass their own mapping on top of it."""
    env = os.environ
    database_url = normalise_database_url(env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'clientflow.db'}")
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": env.get("REDIS_URL") or None,
        "SMTP_URL": env.get("SMTP_URL") or None,
        "MAIL_FROM": env.get("MAIL_FROM", "clientflow <no-reply@clientflow.local>"),
        # Where clients reach the portal, for the signed links in mails (workers have no request to go by).
        "PUBLIC_URL": env.get("CLIENTFLOW_PUBLIC_URL") or None,
        # Timers and notifications on RQ (docs/operations.md): sweep period, job lease, mail retry backoff.
        "SWEEP_INTERVAL": float(env.get("CLIENTFLOW_SWEEP_INTERVAL", "0.5")),
        "JOB_LEASE_SECONDS": float(env.get("CLIENTFLOW_JOB_LEASE_SECONDS", "10")),
        "MAIL_RETRY_INTERVALS": [int(s) for s in env.get("CLIENTFLOW_MAIL_RETRY_INTERVALS", "10,60,300,1800,7200")
                                 .split(",") if s.strip()],
        "SECRET_KEY": env.get("SECRET_KEY") or _instance_secret(instance_path),
        "FORMS_DIR": env.get("CLIENTFLOW_FORMS_DIR", str(PROJECT_ROOT / "forms")),
        "PROCESSES_DIR": env.get("CLIENTFLOW_PROCESSES_DIR", str(PROJECT_ROOT / "processes")),
        "SCRIPT_TIME_LIMIT": float(env.get("CLIENTFLOW_SCRIPT_TIME_LIMIT", "1.0")),
        # The script sandbox and the size limits on instance data (docs/sandbox.md, docs/operations.md).
        "SCRIPT_MEMORY_MB": int(env.get("CLIENTFLOW_SCRIPT_MEMORY_MB", "256")),
        "SCRIPT_WALL_SECONDS": float(env.get("CLIENTFLOW_SCRIPT_WALL_SECONDS", "2.0")),
        "SANDBOX_PROCESSES": int(env.get("CLIENTFLOW_SANDBOX_PROCESSES", "2")),
        "MAX_STATE_BYTES": int(env.get("CLIENTFLOW_MAX_STATE_BYTES", str(1024 * 1024))),
        "MAX_VARIABLE_BYTES": int(env.get("CLIENTFLOW_MAX_VARIABLE_BYTES", str(256 * 1024))),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.get("CLIENTFLOW_SECURE_COOKIES", "").lower() in ("1", "true", "yes"),
        "WTF_CSRF_TIME_LIMIT": None,
        "PAGE_SIZE": 50,
        **security_settings(env),
        **portal_and_report_settings(env),
        **upload_settings(env),
        "RETENTION_DAYS": env.get("CLIENTFLOW_RETENTION_DAYS") or None,
        # Python handlers of Camunda service tasks and listeners (docs/camunda-migration.md): name=module:function
        # entries or modules with a CAMUNDA_HANDLERS dict, separated by commas or new lines.
        "CAMUNDA_HANDLERS": env.get("CLIENTFLOW_CAMUNDA_HANDLERS", ""),
        # Compare every saved state with a full SpiffWorkflow serialization (slow; the test suite turns it on).
        "CHECK_STATE": env.get("CLIENTFLOW_CHECK_STATE", "") == "1",
        # Lane -> the roles that supervise it (team view, reassign); unlisted lanes: docs/operations.md.
        "LANE_SUPERVISORS": lane_supervisors(env.get("CLIENTFLOW_LANE_SUPERVISORS") or "{}"),
        # The one time zone staff pages show times in (with the offset); stored times stay UTC.
        "DISPLAY_TIMEZONE": display_timezone(env.get("CLIENTFLOW_DISPLAY_TIMEZONE") or "Africa/Johannesburg"),
        # The responsible party (POPIA s18(1)(b)) the collection notice on every intake form names.
        "RESPONSIBLE_PARTY": env.get("CLIENTFLOW_RESPONSIBLE_PARTY") or RESPONSIBLE_PARTY,
    }


def portal_and_report_settings(env) -> dict:
    """The portal's and the reports' settings (docs/portal.md, docs/reports.md); unset ones keep their defaults."""
    settings = {name[len("CLIENTFLOW_"):]: json_setting(env, name) for name in (
        "CLIENTFLOW_PORTAL_INTAKES", "CLIENTFLOW_PORTAL_RATE_LIMITS", "CLIENTFLOW_PORTAL_LINK_LIFETIMES",
        "CLIENTFLOW_REPORT_MILESTONES")}
    settings["PORTAL_SURVEY_PROCESS"] = env.get("CLIENTFLOW_PORTAL_SURVEY_PROCESS") or None
    return settings


def upload_settings(env) -> dict:
    """Uploaded files, case documents and attachments alike (docs/operations.md, "Uploads")."""
    try:
        max_mb = float(env.get("CLIENTFLOW_UPLOAD_MAX_MB", "5"))
    except ValueError as err:
        raise ValueError("CLIENTFLOW_UPLOAD_MAX_MB must be a number of megabytes, e.g. 5 or 0.5") from err
    return {
        "UPLOAD_MAX_MB": max_mb,
        # Content types (recognised by the file's first bytes) that attachments may be; documents of a kind
        # (ID, bank letter...) take the PDF, PNG and JPEG among them.
        "UPLOAD_TYPES": [t.strip() for t in env.get("CLIENTFLOW_UPLOAD_TYPES",
                                                    "application/pdf,image/png,image/jpeg,text/plain").split(",")
                         if t.strip()],
        # The virus-scan hook: a command (the file's path is appended; exit 0 clean, 1 infected) or
        # `package.module:function`; unset: no scan.
        "UPLOAD_SCAN": env.get("CLIENTFLOW_UPLOAD_SCAN") or None,
    }


def json_setting(env, variable: str) -> dict | None:
    """A setting given as a JSON object in the environment; None when unset."""
    raw = env.get(variable)
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError as err:
        raise ValueError(f"{variable} is not valid JSON: {err}") from err
    if not isinstance(value, dict):
        raise ValueError(f"{variable} must be a JSON object, not {type(value).__name__}")
    return value


def security_settings(env) -> dict:
    """Sign-in, sessions, tokens and request sizes (docs/operations.md, "Security settings")."""
    return {
        # Server-side sessions: idle timeout and absolute lifetime (user_session table).
        "SESSION_IDLE_MINUTES": float(env.get("CLIENTFLOW_SESSION_IDLE_MINUTES", "30")),
        "SESSION_LIFETIME_HOURS": float(env.get("CLIENTFLOW_SESSION_LIFETIME_HOURS", "12")),
        # Failed sign-ins counted per account and per client address (Flask-Limiter, docs/decisions.md).
        "LOGIN_LIMIT_ACCOUNT": env.get("CLIENTFLOW_LOGIN_LIMIT_ACCOUNT", "5 per 5 minutes; 20 per day"),
        "LOGIN_LIMIT_ADDRESS": env.get("CLIENTFLOW_LOGIN_LIMIT_ADDRESS", "20 per 5 minutes; 100 per day"),
        "RATELIMIT_STORAGE_URI": env.get("CLIENTFLOW_RATELIMIT_STORAGE_URI") or limiter_storage(
            env.get("REDIS_URL") or ""),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Roles that must sign in with a TOTP code too (comma separated, e.g. "Admin,Compliance Officer").
        "TOTP_REQUIRED_ROLES": [r.strip() for r in env.get("CLIENTFLOW_TOTP_REQUIRED_ROLES", "").split(",")
                                if r.strip()],
        "API_TOKEN_DAYS": int(env.get("CLIENTFLOW_API_TOKEN_DAYS", "90")),
        # Largest request body read at all (the studio's JSON saves are the largest); Flask enforces it on the
        # stream, so a body sent without Content-Length is cut off too.
        "MAX_CONTENT_LENGTH": int(env.get("CLIENTFLOW_MAX_CONTENT_LENGTH", str(26 * 1024 * 1024))),
    }


def limiter_storage(redis_url: str) -> str:
    """Flask-Limiter's storage: the shared Redis when there is one, else this process's memory."""
    if redis_url.startswith(("redis://", "rediss://")):
        return redis_url
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://"):]
    return "memory://"


def engine_limits(settings) -> dict:
    """The sandbox and data-size settings as `Engine(...)` keyword arguments."""
    return {"script_memory_mb": settings["SCRIPT_MEMORY_MB"], "script_wall_seconds": settings["SCRIPT_WALL_SECONDS"],
            "sandbox_processes": settings["SANDBOX_PROCESSES"], "max_state_bytes": settings["MAX_STATE_BYTES"],
            "max_variable_bytes": settings["MAX_VARIABLE_BYTES"]}


def upload_policy(settings) -> UploadPolicy:
    """The size, types and virus scan every upload must pass, from UPLOAD_MAX_MB, UPLOAD_TYPES and UPLOAD_SCAN."""
    try:
        return UploadPolicy(max_bytes=int(settings["UPLOAD_MAX_MB"] * MB), types=tuple(settings["UPLOAD_TYPES"]),
                            scanner=scanner_from(settings["UPLOAD_SCAN"]))
    except ValueError as err:
        raise ValueError(f"upload settings (CLIENTFLOW_UPLOAD_MAX_MB, _TYPES, _SCAN): {err}") from err


def display_timezone(name: str) -> str:
    """CLIENTFLOW_DISPLAY_TIMEZONE: an IANA zone name such as Africa/Johannesburg."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"CLIENTFLOW_DISPLAY_TIMEZONE {name!r} is not an IANA time zone "
                         "(e.g. Africa/Johannesburg, Europe/London, UTC)") from err
    return name


def lane_supervisors(raw: str) -> dict:
    """CLIENTFLOW_LANE_SUPERVISORS: a JSON object mapping a lane to the roles that supervise it."""
    try:
        value = json.loads(raw)
    except ValueError as err:
        raise ValueError(f"CLIENTFLOW_LANE_SUPERVISORS is not JSON ({err}); e.g. "
                         '{"Compliance Officer": ["Head of Compliance"]}') from err
    if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
        raise ValueError("CLIENTFLOW_LANE_SUPERVISORS must map each lane name to a list of role names")
    return value


def normalise_database_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
