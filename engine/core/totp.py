"""Time-based one-time passwords (RFC 6238) as the optional second sign-in factor, through pyotp."""

from __future__ import annotations

import re
from datetime import datetime

import pyotp

ISSUER = "clientflow"
_CODE = re.compile(r"^\d{6}$")


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    """The otpauth:// address an authenticator app reads (usually as a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def verify(secret: str, code: str, now: datetime) -> bool:
    """Whether `code` is the current code, or the one just before or after (30 s of clock drift)."""
    code = (code or "").replace(" ", "")
    return bool(_CODE.match(code)) and pyotp.TOTP(secret).verify(code, for_time=now, valid_window=1)


def code_at(secret: str, now: datetime) -> str:
    return pyotp.TOTP(secret).at(now)
