"""The checks every uploaded file passes (case documents and attachments): size, type by content, virus scan.

The type is recognised from the file's first bytes (the name and the browser's claim are not trusted). The
virus-scan hook is a `Scanner`: a callable given the content and the file name that returns None for a clean
file and the reason otherwise. `scanner_from` makes one from a setting: a callable, `package.module:function`,
or a command run with the file's path as its last argument (exit 0: clean, 1: infected, as ClamAV's
`clamdscan`/`clamscan` answer; anything else, or no answer in time, refuses the upload as not scanned).
"""

from __future__ import annotations

import importlib
import re
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.errors import InvalidInput

Scanner = Callable[[bytes, str | None], str | None]

MB = 1024 * 1024
# Every type the store can recognise, with how users know it; a deployment allows some (UploadPolicy.types).
NAMES = {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF",
         "image/webp": "WebP", "text/plain": "plain text"}
SCANS = ("application/pdf", "image/png", "image/jpeg")  # what an identity or bank document may be
SIGNATURES = ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
              (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"))
CALLABLE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
SCAN_SECONDS = 60
# Control characters that never occur in a text file (tab, newlines and form feed do).
BINARY = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def content_type_of(content: bytes) -> str | None:
    """The type of `content` as its first bytes show it, or None when it is none of the known types."""
    found = next((kind for magic, kind in SIGNATURES if content.startswith(magic)), None)
    if found:
        return found
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if BINARY.search(content) else "text/plain"


def safe_filename(filename: str | None) -> str | None:
    """The file's own name (no folders), with characters other than letters, digits and ` .()-` replaced."""
    name = (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return re.sub(r"[^\w .()-]", "_", name).strip()[:200] or None


@dataclass(frozen=True)
class UploadPolicy:
    """How large and of which types uploads may be, and the scanner that must pass them (None: no scan)."""

    max_bytes: int = 5 * MB
    types: tuple[str, ...] = (*SCANS, "text/plain")
    scanner: Scanner | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        unknown = [t for t in self.types if t not in NAMES]
        if unknown:
            raise ValueError(f"unknown upload type(s) {', '.join(unknown)}: use some of {', '.join(NAMES)}")
        if self.max_bytes < 1:
            raise ValueError("the upload size limit must be at least 1 byte")

    def check(self, what: str, filename: str | None, content: bytes, scans_only: bool = False) -> str:
        """The content type of an acceptable upload; `InvalidInput` naming what is wrong otherwise.

        `what` names the file in messages ("the identity document"); `scans_only` limits the types to SCANS."""
        if not content:
            raise InvalidInput(f"{what} file is empty")
        if len(content) > self.max_bytes:
            raise InvalidInput(f"{what} file is {len(content) / MB:.1f} MB; the limit is {_size(self.max_bytes)}")
        allowed = [t for t in self.types if t in SCANS] if scans_only else list(self.types)
        content_type = content_type_of(content)
        if content_type not in allowed:
            raise InvalidInput(f"{what} must be a {_either(allowed)} file")
        if self.scanner is not None:
            reason = self.scanner(content, safe_filename(filename))
            if reason:
                raise InvalidInput(f"{what} was refused by the virus scan: {reason}")
        return content_type

    @property
    def accept(self) -> str:
        """The types as an HTML `accept` attribute."""
        return ",".join(self.types)

    def describe(self, scans_only: bool = False) -> str:
        """E.g. "PDF, PNG or JPEG, up to 5 MB each"."""
        allowed = [t for t in self.types if t in SCANS] if scans_only else list(self.types)
        return f"{_either(allowed)}, up to {_size(self.max_bytes)} each"


def _either(types: list[str]) -> str:
    names = [NAMES[t] for t in types] or ["(no type allowed)"]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _size(limit: int) -> str:
    return f"{limit // MB} MB" if limit % MB == 0 else f"{limit / MB:.1f} MB" if limit >= MB else f"{limit} bytes"


def command_scanner(command: str, timeout: float = SCAN_SECONDS) -> Scanner:
    """A scanner running `command` with the path of a temporary copy of the file appended."""
    argv = shlex.split(command)
    if not argv:
        raise ValueError("the virus-scan command is empty")

    def scan(content: bytes, filename: str | None) -> str | None:
        with tempfile.NamedTemporaryFile(prefix="clientflow-scan-", suffix=".upload") as copy:
            copy.write(content)
            copy.flush()
            try:
                done = subprocess.run([*argv, copy.name], capture_output=True, timeout=timeout, check=False)
            except (OSError, subprocess.TimeoutExpired) as err:
                return f"the file could not be scanned ({type(err).__name__}); try again or ask an administrator"
        said = (done.stdout or done.stderr).decode("utf-8", "replace").strip().replace(copy.name, filename or "file")
        if done.returncode == 0:
            return None
        if done.returncode == 1:
            return said.splitlines()[0][:200] if said else "the scanner found a threat"
        return f"the file could not be scanned (scanner exit status {done.returncode}); ask an administrator"

    return scan


def scanner_from(setting: str | Scanner | None) -> Scanner | None:
    """The scanner a setting names: None/"" (no scan), a callable, `module:function`, or a command line."""
    if setting is None or callable(setting):
        return setting
    text = str(setting).strip()
    if not text:
        return None
    if CALLABLE.match(text):
        module, _, name = text.partition(":")
        try:
            found = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as err:
            raise ValueError(f"the virus-scan hook {text!r} cannot be imported: {err}") from err
        if not callable(found):
            raise ValueError(f"the virus-scan hook {text!r} is not callable")
        return found
    return command_scanner(text)
