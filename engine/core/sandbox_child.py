"""The sandbox process: runs one script or expression at a time under RestrictedPython and OS limits.

The pool in sandbox.py starts this file with ``python -I`` (no user site, no PYTHON* variables, an empty
environment) and talks to it over its stdin/stdout with length-prefixed JSON frames. The file imports only
the standard library and RestrictedPython, so it also holds the parts both sides share: the frame format,
the JSON codec for task data and the ``Policy`` (which builtins and values scripts see).

Limits, all enforced by the kernel so that a long built-in call such as ``sum(range(10**11))`` cannot dodge
them: RLIMIT_AS caps the address space (an allocation over it raises MemoryError, and the process then exits
with EXIT_MEMORY); ITIMER_PROF sends SIGPROF, whose default action ends the process, once a script has used
its CPU budget; RLIMIT_CPU is the backstop (SIGXCPU) one second later. The parent adds a wall-clock budget.
"""

from __future__ import annotations

import builtins
import datetime as _datetime
import json
import math
import os
import re
import resource
import signal
import struct
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

SCRIPT_FILENAME = "<string>"  # SpiffWorkflow looks for this file name in tracebacks to find a script's line
EXIT_MEMORY = 3
_HEADER = struct.Struct("!I")
_MB = 1024 * 1024

# --- task data as JSON ---------------------------------------------------------------------------------------
# Dates, times and decimals travel as {"__clientflow_type__": kind, "v": text}; tuples arrive as lists and
# non-string dict keys as strings (plain JSON rules).
_TAG = "__clientflow_type__"
_DECODERS = {
    "datetime": _datetime.datetime.fromisoformat,
    "date": _datetime.date.fromisoformat,
    "time": _datetime.time.fromisoformat,
    "timedelta": lambda v: _datetime.timedelta(microseconds=int(v)),
    "decimal": Decimal,
}


def _encode_special(value: Any) -> Any:
    if isinstance(value, _datetime.datetime | _datetime.date | _datetime.time):
        return {_TAG: type(value).__name__, "v": value.isoformat()}
    if isinstance(value, _datetime.timedelta):
        return {_TAG: "timedelta", "v": str(value // _datetime.timedelta(microseconds=1))}
    if isinstance(value, Decimal):
        return {_TAG: "decimal", "v": str(value)}
    raise TypeError(f"a {type(value).__name__} cannot be stored in task data")


def _decode_special(obj: dict) -> Any:
    if len(obj) == 2 and _TAG in obj and obj[_TAG] in _DECODERS:
        return _DECODERS[obj[_TAG]](obj["v"])
    return obj


_ENCODER = json.JSONEncoder(default=_encode_special, ensure_ascii=False, separators=(",", ":"))
_DECODER = json.JSONDecoder(object_hook=_decode_special)


def dumps(value: Any) -> bytes:
    """Task data to JSON bytes (raises TypeError or ValueError for what JSON cannot hold)."""
    return _ENCODER.encode(value).encode()


def loads(data: bytes) -> Any:
    """JSON bytes back to task data."""
    return _DECODER.decode(data.decode())


def unstorable(variables: dict[str, Any]) -> str:
    """Name the first variable that cannot be stored as JSON, and why."""
    for name, value in variables.items():
        try:
            dumps(value)
        except (TypeError, ValueError, RecursionError) as err:
            return f"variable '{name}' cannot be stored in task data: {err}"
    return "task data cannot be stored as JSON"


# --- frames ----------------------------------------------------------------------------------------------------
def write_frame(fd: int, body: bytes) -> None:
    """Send one length-prefixed frame."""
    view = memoryview(_HEADER.pack(len(body)) + body)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks, missing = [], size
    while missing:
        chunk = os.read(fd, min(missing, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> bytes | None:
    """Receive one frame; None when the other side has closed the pipe."""
    header = _read_exact(fd, _HEADER.size)
    return None if header is None else _read_exact(fd, _HEADER.unpack(header)[0])


# --- the policy ------------------------------------------------------------------------------------------------
# The one list of what scripts, conditions and DMN expressions may use (RestrictedPython's safe_builtins minus
# __import__/setattr/delattr, plus the listed extras; datetime, date and timedelta as values). The fast path of
# conditions.py allows a subset of it.
DEFAULT_EXTRA_BUILTINS = ("min", "max", "sum", "any", "all", "sorted", "enumerate", "zip", "map", "filter", "list",
                          "dict", "set", "reversed", "round", "abs", "len")
DEFAULT_REMOVED_BUILTINS = ("__import__", "setattr", "delattr")
DEFAULT_VALUES = ("datetime", "date", "timedelta")
_VALUES = {"datetime": _datetime.datetime, "date": _datetime.date, "timedelta": _datetime.timedelta,
           "time": _datetime.time, "Decimal": Decimal}


@dataclass(frozen=True)
class Policy:
    """What sandboxed code may use: extra builtins, removed builtins and named values (all by name)."""

    extra_builtins: tuple[str, ...] = DEFAULT_EXTRA_BUILTINS
    removed_builtins: tuple[str, ...] = DEFAULT_REMOVED_BUILTINS
    values: tuple[str, ...] = DEFAULT_VALUES

    def as_json(self) -> dict[str, list[str]]:
        return {key: list(names) for key, names in asdict(self).items()}


@dataclass
class _Output:
    """Bounded capture of print(): at most `max_lines` lines and `max_bytes` characters, then a marker."""

    max_lines: int
    max_bytes: int
    parts: list[str] = field(default_factory=list)
    size: int = 0
    truncated: bool = False

    def write(self, text: str) -> None:
        if self.truncated:
            return
        room = self.max_bytes - self.size
        if len(text) > room:
            text, self.truncated = text[:room], True
        self.parts.append(text)
        self.size += len(text)
        if "".join(self.parts).count("\n") > self.max_lines:
            self.truncated = True

    def lines(self) -> list[str]:
        lines = "".join(self.parts).splitlines()[: self.max_lines]
        return [*lines, "[output truncated]"] if self.truncated else lines


def _printer(output: _Output):
    """RestrictedPython's `_print_` factory writing into one shared, bounded buffer."""

    class Printer:
        def __init__(self, _getattr_=None):
            pass

        def _call_print(self, *objects, **kwargs):
            kwargs["file"] = output
            print(*objects, **kwargs)

        def __call__(self):
            return "".join(output.parts)

    return Printer


def _inplace(op: str, left: Any, right: Any) -> Any:
    operators = {"+=": lambda: left + right, "-=": lambda: left - right, "*=": lambda: left * right,
                 "/=": lambda: left / right, "//=": lambda: left // right, "%=": lambda: left % right,
                 "**=": lambda: left**right}
    if op not in operators:
        raise SyntaxError(f"operator {op} is not allowed in scripts")
    return operators[op]()


def _base_globals(policy: dict[str, list[str]]) -> dict[str, Any]:
    from RestrictedPython import safe_builtins
    from RestrictedPython.Eval import default_guarded_getitem
    from RestrictedPython.Guards import (
        full_write_guard,
        guarded_iter_unpack_sequence,
        guarded_unpack_sequence,
        safer_getattr,
    )

    available = {**safe_builtins, **{n: getattr(builtins, n) for n in policy["extra_builtins"]}}
    allowed = {k: v for k, v in available.items() if k not in policy["removed_builtins"]}
    return {"__builtins__": allowed, "__metaclass__": type, "__name__": "script",
            "_getattr_": safer_getattr, "_getitem_": default_guarded_getitem, "_getiter_": iter,
            "_write_": full_write_guard, "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence, "_inplacevar_": _inplace,
            "_apply_": lambda f, *a, **kw: f(*a, **kw), **{n: _VALUES[n] for n in policy["values"]}}


class _Violation(Exception):
    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


@lru_cache(maxsize=2048)
def _compile(source: str, mode: str):
    from RestrictedPython import compile_restricted

    try:
        return compile_restricted(source, SCRIPT_FILENAME, mode)
    except SyntaxError as err:
        reasons = err.args[0] if err.args and isinstance(err.args[0], tuple | list) else err.args
        message = "; ".join(str(r) for r in reasons) or str(err)
        found = re.match(r"Line (\d+):", message)
        raise _Violation(message, int(found.group(1)) if found else (err.lineno or 0)) from None


def _script_line(err: BaseException) -> int:
    line, tb = 0, err.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == SCRIPT_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _recorder(name: str, calls: list[dict[str, Any]]):
    def record(*args, **kwargs):
        try:
            dumps([args, kwargs])
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name}(): arguments must be task data ({err})") from None
        calls.append({"name": name, "args": list(args), "kwargs": kwargs, "line": sys._getframe(1).f_lineno})

    return record


def _variables(namespace: dict[str, Any], hidden: set[str], context: dict[str, Any]) -> dict[str, Any]:
    """The task data a script leaves behind: its variables without helpers, functions, classes and modules."""
    kept = {}
    for name, value in namespace.items():
        if name in hidden and name not in context:
            continue
        if callable(value) or type(value).__name__ == "module":
            continue
        kept[name] = value
    return kept


def run(request: dict[str, Any], base: dict[str, Any], output: _Output, max_result_bytes: int) -> bytes:
    """Run one request and return the reply frame's body (errors are replies too)."""
    calls: list[dict[str, Any]] = []
    context, external = request["context"], request.get("external") or {}
    effects = {name: _recorder(name, calls) for name in request.get("effects", ())}
    namespace = {**base, "_print_": _printer(output), **effects, **external, **context}
    hidden = set(base) | set(effects) | set(external) | {"_print_", "_print"}
    try:
        code = _compile(request["source"], request["mode"])
        if request["mode"] == "eval":
            reply = {"status": "ok", "value": eval(code, namespace)}  # noqa: S307 - compiled by RestrictedPython
        else:
            exec(code, namespace)  # noqa: S102 - compiled by RestrictedPython
            reply = {"status": "ok", "context": _variables(namespace, hidden, context)}
    except _Violation as err:
        reply = {"status": "error", "type": "SandboxViolation", "message": str(err), "line": err.line}
    except MemoryError:
        raise
    except Exception as err:
        reply = {"status": "error", "type": type(err).__name__, "message": str(err), "line": _script_line(err)}
    reply.update(effects=calls if reply["status"] == "ok" else [], output=output.lines())
    try:
        body = dumps(reply)
    except (TypeError, ValueError, RecursionError):
        stored = reply.get("context", {"result": reply.get("value")})
        body = dumps({"status": "error", "type": "TypeError", "message": unstorable(stored), "line": 0,
                      "effects": [], "output": output.lines()})
    if len(body) > max_result_bytes:
        body = dumps({"status": "limit", "message": f"script result is {len(body) / _MB:.1f} MB, over the "
                      f"{max_result_bytes / _MB:g} MB limit", "output": output.lines()})
    return body


def _apply_limits(limits: dict[str, Any]) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    memory = limits["memory_mb"] * _MB
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    for number in (signal.SIGPROF, signal.SIGXCPU):
        signal.signal(number, signal.SIG_DFL)


def _arm_cpu_budget(seconds: float) -> None:
    used = time.process_time()
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(used + seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
    signal.setitimer(signal.ITIMER_PROF, seconds)


def main() -> None:
    """Serve requests on stdin/stdout until the parent closes the pipe."""
    warnings.simplefilter("ignore")
    requests, replies = os.dup(0), os.dup(1)
    # Anything else that writes to stdout (a stray warning) must not corrupt the frames.
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)
    hello = read_frame(requests)
    if hello is None:
        return
    config = loads(hello)
    limits = config["limits"]
    base = _base_globals(config["policy"])
    _compile("None", "eval")  # import RestrictedPython's compiler before the memory limit applies
    _apply_limits(limits)
    write_frame(replies, dumps({"status": "ready", "pid": os.getpid()}))
    while (frame := read_frame(requests)) is not None:
        try:
            _arm_cpu_budget(limits["cpu_seconds"])
            body = run(loads(frame), base, _Output(limits["max_output_lines"], limits["max_output_bytes"]),
                       limits["max_result_bytes"])
            signal.setitimer(signal.ITIMER_PROF, 0)
        except MemoryError:
            os._exit(EXIT_MEMORY)
        write_frame(replies, body)


if __name__ == "__main__":
    main()
