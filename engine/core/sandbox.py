"""Scripts and conditions run isolated: a pool of sandbox processes with kernel-enforced CPU and memory limits.

A deployed model is untrusted code. In-process guards (a line tracer, operator checks) cannot stop one long
built-in call such as ``sum(range(10**11))`` or ``''.ljust(400 * 10**6)``, so every script runs in a separate
process (sandbox_child.py) under RestrictedPython, with RLIMIT_AS, a CPU timer and RLIMIT_CPU set by the kernel
and a wall-clock budget kept here. On a breach the process is killed and replaced and the caller gets
`ScriptLimitExceeded`; the calling process never holds the script's memory.

Conditions that provably cannot loop or allocate skip the round trip (conditions.py); scripts.py plugs the
pool into SpiffWorkflow.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .sandbox_child import EXIT_MEMORY, Policy, dumps, loads, unstorable, write_frame

__all__ = ["Effects", "EffectCall", "Policy", "SandboxError", "SandboxLimits", "SandboxPool", "ScriptError",
           "ScriptLimitExceeded", "ScriptResult"]

_CHILD = str(Path(__file__).with_name("sandbox_child.py"))
_STARTUP_SECONDS = 10.0
_MB = 1024 * 1024

# Held while a sandbox process is being started. `subprocess` learns that the exec worked when the write end of a
# pipe closes in the child; a process forked meanwhile by another thread and not exec'd (RQ's scheduler is one)
# inherits that end and keeps it open, and the start - with every caller of the pool behind it - waits for as long
# as that process lives. Code that forks this process without an exec takes this lock around the fork.
FORK_LOCK = threading.Lock()


class SandboxError(Exception):
    """The sandbox could not run a script (its process failed, or the pool is closed)."""


class ScriptError(SandboxError):
    """A script or expression failed: its error type, message and line (0 when unknown)."""

    def __init__(self, error_type: str, message: str, line_number: int = 0, output: Sequence[str] = ()):
        super().__init__(f"{error_type}: {message}")
        self.error_type, self.message, self.line_number, self.output = error_type, message, line_number, tuple(output)


class ScriptLimitExceeded(SandboxError):
    """A script breached its CPU, memory, wall-clock or result-size limit."""


@dataclass(frozen=True)
class SandboxLimits:
    """Per-deployment limits for one script or expression run."""

    cpu_seconds: float = 1.0
    memory_mb: int = 256
    wall_seconds: float = 2.0
    pool_size: int = 2
    max_output_lines: int = 50
    max_output_bytes: int = 4096
    max_result_bytes: int = _MB


@dataclass(frozen=True)
class EffectCall:
    """One call a script made to an effect function, to be replayed by the calling process."""

    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    line: int


@dataclass(frozen=True)
class ScriptResult:
    """What came back from the sandbox: the value (eval) or the new variables (exec), effects and print output."""

    value: Any = None
    context: dict[str, Any] = field(default_factory=dict)
    effects: tuple[EffectCall, ...] = ()
    output: tuple[str, ...] = ()


class Effects:
    """Script functions that must act in the calling process (e.g. `notify`): recorded in the sandbox, replayed here.

    In the script an effect returns None; its arguments must be task data (JSON)."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]] | None = None):
        self._functions = dict(functions or {})

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._functions)

    def replay(self, calls: Sequence[EffectCall]) -> None:
        """Call the real functions in order; a failure names the script line that asked for it."""
        for call in calls:
            try:
                self._functions[call.name](*call.args, **call.kwargs)
            except Exception as err:
                raise ScriptError(type(err).__name__, f"{call.name}(): {err}", call.line) from err


class _WallClock(Exception):
    pass


class _StartFailed(Exception):
    pass


class _Ended(Exception):
    def __init__(self, before_run: bool = False):
        self.before_run = before_run


class _Worker:
    """One sandbox process and its two pipes."""

    def __init__(self, limits: SandboxLimits, policy: Policy):
        with FORK_LOCK:
            self.proc = subprocess.Popen([sys.executable, "-I", _CHILD], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, env={}, cwd="/", bufsize=0, start_new_session=True)
        self._in, self._out = self.proc.stdin.fileno(), self.proc.stdout.fileno()
        self._poll = select.poll()
        self._poll.register(self._out, select.POLLIN)
        write_frame(self._in, dumps({"limits": asdict(limits), "policy": policy.as_json()}))
        self.ready = False

    def call(self, body: bytes, wall_seconds: float, max_reply: int) -> dict[str, Any]:
        if not self.ready:
            try:
                hello = self._receive(_STARTUP_SECONDS, 4096)
            except (_WallClock, _Ended):
                raise _StartFailed() from None
            if hello.get("status") != "ready":
                raise _StartFailed()
            self.ready = True
        try:
            write_frame(self._in, body)
        except BrokenPipeError:
            raise _Ended(before_run=True) from None
        return self._receive(wall_seconds, max_reply)

    def _receive(self, seconds: float, max_size: int) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        size = int.from_bytes(self._read(4, deadline), "big")
        if size > max_size:  # a broken child must not make this process allocate
            raise _Ended()
        return loads(self._read(size, deadline))

    def _read(self, size: int, deadline: float) -> bytes:
        chunks, missing = [], size
        while missing:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._poll.poll(remaining * 1000):
                raise _WallClock()
            chunk = os.read(self._out, min(missing, _MB))
            if not chunk:
                raise _Ended()
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    def stop(self) -> int | None:
        """Kill the process and return its exit status (negative: the signal that ended it)."""
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=0.2)  # it may be ending on its own (CPU signal, memory exit)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        status = self.proc.wait()
        self.forget()
        return status

    def forget(self) -> None:
        """Close this process's pipes without signalling it (after a fork, it belongs to the parent)."""
        self.proc.stdin.close()
        self.proc.stdout.close()


_POOLS: weakref.WeakSet[SandboxPool] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for pool in list(_POOLS):
        pool._forget_inherited()


os.register_at_fork(after_in_child=_after_fork_in_child)


@dataclass
class PoolStats:
    """Counters for tests and the benchmark."""

    spawned: int = 0
    runs: int = 0
    replaced: int = 0


class SandboxPool:
    """A few pre-started sandbox processes, started on first use, safe to share between threads and across forks.

    Processes are started with fork+exec (`subprocess`), never by forking this process, so the pool can live in
    a threaded web server or a forked RQ work horse; a forked child drops the inherited processes and starts its
    own on first use."""

    def __init__(self, limits: SandboxLimits | None = None, policy: Policy | None = None):
        self.limits = limits or SandboxLimits()
        self.policy = policy or Policy()
        self._closed = False
        self._forget_inherited()
        _POOLS.add(self)

    def _forget_inherited(self) -> None:
        for worker in (*getattr(self, "_workers", ()), *getattr(self, "_retired", ())):
            worker.forget()
        self._pid = os.getpid()
        self._cond = threading.Condition()
        self._workers: set[_Worker] = set()
        self._idle: list[_Worker] = []
        self._retired: set[_Worker] = set()
        self.stats = PoolStats()

    def run(self, mode: str, source: str, context: Mapping[str, Any], external: Mapping[str, Any] | None = None,
            effects: Sequence[str] = ()) -> ScriptResult:
        """Run `source` ("exec" a script or "eval" an expression) with `context` as its variables."""
        try:
            body = dumps({"mode": mode, "source": source, "context": context, "external": external or {},
                          "effects": list(effects)})
        except (TypeError, ValueError, RecursionError):
            raise ScriptError("TypeError", unstorable({**(external or {}), **context})) from None
        for _attempt in range(2):
            worker = self._checkout()
            try:
                reply = worker.call(body, self.limits.wall_seconds,
                                    self.limits.max_result_bytes + 4 * self.limits.max_output_bytes + 4096)
            except _WallClock:
                self._replace(worker)
                raise ScriptLimitExceeded(f"script exceeded {self.limits.wall_seconds:g} s wall-clock time") from None
            except _Ended as ended:
                status = self._replace(worker)
                if ended.before_run and _attempt == 0:
                    continue
                raise self._ended_error(status) from None
            except _StartFailed:
                status = self._replace(worker)
                raise SandboxError(f"sandbox process did not start (exit status {status})") from None
            except BaseException:
                self._replace(worker)  # interrupted mid-call (a job timeout, Ctrl-C): its reply must not be reused
                raise
            self._checkin(worker)
            return self._result(reply)
        raise AssertionError("unreachable")

    def _result(self, reply: dict[str, Any]) -> ScriptResult:
        if reply["status"] == "limit":
            raise ScriptLimitExceeded(reply["message"])
        if reply["status"] == "error":
            raise ScriptError(reply["type"], reply["message"], reply["line"], reply["output"])
        calls = tuple(EffectCall(c["name"], tuple(c["args"]), c["kwargs"], c["line"]) for c in reply["effects"])
        return ScriptResult(reply.get("value"), reply.get("context", {}), calls, tuple(reply["output"]))

    def _ended_error(self, status: int | None) -> SandboxError:
        if status in (-signal.SIGPROF, -signal.SIGXCPU):
            return ScriptLimitExceeded(f"script exceeded {self.limits.cpu_seconds:g} s CPU")
        if status == EXIT_MEMORY:
            return ScriptLimitExceeded(f"script exceeded {self.limits.memory_mb} MB")
        return SandboxError(f"sandbox process ended unexpectedly (exit status {status})")

    def _spawn(self) -> None:
        worker = _Worker(self.limits, self.policy)
        self._workers.add(worker)
        self._idle.append(worker)
        self.stats.spawned += 1

    def _checkout(self) -> _Worker:
        with self._cond:
            if self._pid != os.getpid():  # forked without os.fork's hooks (e.g. from C)
                self._forget_inherited()
            if self._closed:
                raise SandboxError("the sandbox pool is closed")
            while not self._idle:
                if not self._workers:  # first use, or `release` emptied the pool while this caller waited
                    for _ in range(self.limits.pool_size):
                        self._spawn()
                    break
                self._cond.wait()
                if self._closed:
                    raise SandboxError("the sandbox pool is closed")
            self.stats.runs += 1
            return self._idle.pop(0)  # oldest first: a replacement may still be starting

    def _checkin(self, worker: _Worker) -> None:
        with self._cond:
            if worker in self._workers and not self._closed:
                self._idle.append(worker)
                self._cond.notify()
                return
            self._workers.discard(worker)
            retired = worker in self._retired or self._closed
            self._retired.discard(worker)
        if retired:
            worker.stop()

    def _replace(self, worker: _Worker) -> int | None:
        status = worker.stop()
        with self._cond:
            self._retired.discard(worker)
            if worker in self._workers:
                self._workers.discard(worker)
                self.stats.replaced += 1
                if not self._closed:
                    self._spawn()
                self._cond.notify()
        return status

    def release(self) -> None:
        """Stop every process (the busy ones when they come back); the next run starts new ones.

        Called when the engine's database engine is disposed: the pool stays usable, but holds no process."""
        with self._cond:
            idle, self._idle = self._idle, []
            self._retired |= self._workers - set(idle)
            self._workers = set()
            self._cond.notify_all()  # callers waiting for a busy process start new ones instead
        for worker in idle:
            worker.proc.stdin.close()
            worker.stop()

    @property
    def processes(self) -> int:
        """Sandbox processes this pool holds now (busy or idle)."""
        return len(self._workers) + len(self._retired)

    def close(self) -> None:
        """Stop the idle processes now and the busy ones when they come back."""
        with self._cond:
            self._closed = True
            for worker in self._idle:
                self._workers.discard(worker)
                worker.proc.stdin.close()  # the child leaves its loop at end of input
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        for worker in idle:
            worker.stop()

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
