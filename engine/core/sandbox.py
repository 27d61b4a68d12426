"""Scripts and conditions run isolated: a pool of sandbox processes with kernel-enforced CPU and memory limits.

A deployed model is untrusted code. In-process guards (a line tracer, operator checks) cannot stop one long
built-in call such as ``sum(range(10**11))`` or ``''.ljust(400 * 10**6)``, so every script runs in a separate
process (sandbox_child.py) under RestrictedPython, with RLIMIT_AS, a CPU timer and RLIMIT_CPU set by the kernel
and a wall-clock budget kept here. On a breach the process is killed and replaced and the caller gets
`ScriptLimitExceeded`; the calling process never holds the script's memory.

Conditions that provably cannot loop or allocate (see `fast_expression`) skip the round trip and run here.
"""

from __future__ import annotations

import ast
import operator
import os
import select
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections import ChainMap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn

from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from .sandbox_child import EXIT_MEMORY, SCRIPT_FILENAME, Policy, dumps, loads, unstorable, write_frame

__all__ = ["Effects", "EffectCall", "IsolatedEnvironment", "Policy", "SandboxError", "SandboxLimits", "SandboxPool",
           "ScriptError", "ScriptLimitExceeded", "ScriptResult", "bench_scripts", "fast_expression"]

_CHILD = str(Path(__file__).with_name("sandbox_child.py"))
_STARTUP_SECONDS = 10.0
_MB = 1024 * 1024


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
        self.proc = subprocess.Popen([sys.executable, "-I", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env={}, cwd="/", bufsize=0, start_new_session=True)
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
        for worker in getattr(self, "_workers", ()):
            worker.forget()
        self._pid = os.getpid()
        self._cond = threading.Condition()
        self._workers: set[_Worker] = set()
        self._idle: list[_Worker] = []
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
            if not self._workers:
                for _ in range(self.limits.pool_size):
                    self._spawn()
            while not self._idle:
                self._cond.wait()
                if self._closed:
                    raise SandboxError("the sandbox pool is closed")
            self.stats.runs += 1
            return self._idle.pop(0)  # oldest first: a replacement may still be starting

    def _checkin(self, worker: _Worker) -> None:
        with self._cond:
            if self._closed:
                self._workers.discard(worker)
                worker.stop()
            elif worker in self._workers:
                self._idle.append(worker)
                self._cond.notify()

    def _replace(self, worker: _Worker) -> int | None:
        status = worker.stop()
        with self._cond:
            if worker in self._workers:
                self._workers.discard(worker)
                self.stats.replaced += 1
                if not self._closed:
                    self._spawn()
                self._cond.notify()
        return status

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


# --- the in-process fast path ----------------------------------------------------------------------------------
# An expression takes the fast path only if its syntax tree proves it cannot loop or allocate beyond the size of
# the task data it reads: no loops, comprehensions, lambdas or slices; calls only to the functions and methods
# below, whose cost is at most linear in their (task data) argument; `*`, `/`, `//` and `%` only between numbers
# (checked at run time: `'%0999999999d' % 1` and `'x' * n` go to the pool); no `**`, shifts or bit operators.
# Anything else, and any run-time surprise (a name the data does not hold, an operand that is not a number),
# goes to the pool, so both paths give the same answers.
_FAST_MAX_SOURCE = 500
_FAST_FUNCTIONS: dict[str, Callable[..., Any]] = {"len": len, "abs": abs, "min": min, "max": max, "bool": bool}
_FAST_METHODS = {str: frozenset({"lower", "upper", "casefold", "strip", "lstrip", "rstrip", "startswith",
                                 "endswith", "isdigit", "isalpha", "isspace"}),
                 dict: frozenset({"get"})}
_FAST_METHOD_NAMES = frozenset().union(*_FAST_METHODS.values())
_ARITHMETIC = {ast.Mult: operator.mul, ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv,
               ast.Mod: operator.mod}
_DATA_TYPES = frozenset({str, int, float, bool, type(None), list, tuple, dict, Decimal, datetime, date, clock_time,
                         timedelta})
_NUMBERS = (int, float, Decimal)


class _NotFast(Exception):
    pass


class _Refused(Exception):
    pass


def _fast_arith(op: Callable[[Any, Any], Any], left: Any, right: Any) -> Any:
    if not (isinstance(left, _NUMBERS) and isinstance(right, _NUMBERS)):
        raise _NotFast()
    if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > 100_000:
        raise _NotFast()
    return op(left, right)


def _fast_call(name: str, *args: Any) -> Any:
    if any(type(arg) not in _DATA_TYPES for arg in args):
        raise _NotFast()
    return _FAST_FUNCTIONS[name](*args)


def _fast_method(target: Any, name: str, *args: Any) -> Any:
    if name not in _FAST_METHODS.get(type(target), ()):
        raise _NotFast()
    return getattr(target, name)(*args)


_FAST_GLOBALS = {"__builtins__": {}, "_fast_arith_": _fast_arith, "_fast_call_": _fast_call,
                 "_fast_method_": _fast_method}


def _helper_call(helper: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(helper, ast.Load()), args=list(args), keywords=[])


def _rewrite(node: ast.AST, called: set[str]) -> ast.AST:
    """Check one node against the whitelist and route guarded operations through the helpers."""
    match node:
        case ast.Constant() | ast.Name(ctx=ast.Load()) if not getattr(node, "id", "x").startswith("_"):
            return node
        case ast.Attribute(value=ast.Name() as base, attr=attr, ctx=ast.Load()) if not attr.startswith("_") \
                and attr not in ("format", "format_map"):
            return ast.Attribute(_rewrite(base, called), attr, ast.Load())
        case ast.BoolOp(op=op, values=values):
            return ast.BoolOp(op, [_rewrite(v, called) for v in values])
        case ast.UnaryOp(op=ast.Not() | ast.USub() | ast.UAdd() as op, operand=operand):
            return ast.UnaryOp(op, _rewrite(operand, called))
        case ast.Compare(left=left, ops=ops, comparators=rights):
            return ast.Compare(_rewrite(left, called), ops, [_rewrite(r, called) for r in rights])
        case ast.BinOp(left=left, op=ast.Add() | ast.Sub() as op, right=right):
            return ast.BinOp(_rewrite(left, called), op, _rewrite(right, called))
        case ast.BinOp(left=left, op=op, right=right) if type(op) in _ARITHMETIC:
            return _helper_call("_fast_arith_", ast.Name(f"_op_{type(op).__name__}", ast.Load()),
                                _rewrite(left, called), _rewrite(right, called))
        case ast.IfExp(test=test, body=body, orelse=orelse):
            return ast.IfExp(_rewrite(test, called), _rewrite(body, called), _rewrite(orelse, called))
        case ast.Tuple(elts=elts, ctx=ast.Load()) | ast.List(elts=elts, ctx=ast.Load()) | ast.Set(elts=elts):
            return type(node)(elts=[_rewrite(e, called) for e in elts], **({"ctx": ast.Load()}
                                                                          if not isinstance(node, ast.Set) else {}))
        case ast.Subscript(value=value, slice=index, ctx=ast.Load()) if not isinstance(index, ast.Slice):
            return ast.Subscript(_rewrite(value, called), _rewrite(index, called), ast.Load())
        case ast.Call(func=ast.Name(id=name), args=args, keywords=[]) if name in _FAST_FUNCTIONS:
            called.add(name)
            return _helper_call("_fast_call_", ast.Constant(name), *[_rewrite(a, called) for a in args])
        case ast.Call(func=ast.Attribute(value=ast.Name() as base, attr=name), args=args, keywords=[]) \
                if name in _FAST_METHOD_NAMES:
            return _helper_call("_fast_method_", _rewrite(base, called), ast.Constant(name),
                                *[_rewrite(a, called) for a in args])
    raise _Refused()


for _op_type, _function in _ARITHMETIC.items():
    _FAST_GLOBALS[f"_op_{_op_type.__name__}"] = _function
_HELPERS = tuple(name for name in _FAST_GLOBALS if name != "__builtins__")


@dataclass(frozen=True)
class FastExpression:
    """An expression proven cheap, compiled for in-process evaluation."""

    code: Any
    called: frozenset[str]

    def evaluate(self, context: Mapping[str, Any], external: Mapping[str, Any] | None = None) -> Any:
        """The expression's value; raises _NotFast when only the sandbox can decide."""
        names = ChainMap(context, external) if external else context
        if any(name in names for name in _HELPERS) or any(name in names for name in self.called):
            raise _NotFast()
        try:
            return eval(self.code, _FAST_GLOBALS, names)  # noqa: S307 - whitelisted tree, see _rewrite
        except (_NotFast, NameError):
            raise _NotFast() from None
        except Exception as err:
            raise ScriptError(type(err).__name__, str(err), 1) from err


@lru_cache(maxsize=4096)
def fast_expression(source: str) -> FastExpression | None:
    """The compiled fast-path form of `source`, or None if it must run in the sandbox."""
    if len(source) > _FAST_MAX_SOURCE:
        return None
    try:
        tree = ast.parse(source.strip(), SCRIPT_FILENAME, "eval")
        called: set[str] = set()
        body = ast.fix_missing_locations(ast.Expression(_rewrite(tree.body, called)))
    except (SyntaxError, _Refused, RecursionError):
        return None
    return FastExpression(compile(body, SCRIPT_FILENAME, "eval"), frozenset(called))


# --- SpiffWorkflow -----------------------------------------------------------------------------------------------
def _raise_at_line(err: SandboxError, line: int) -> NoReturn:
    # SpiffWorkflow takes a script's failing line from the traceback frame named "<string>"
    # (PythonScriptEngine.get_error_line_number_and_content), so re-raise from such a frame at that line.
    exec(compile("\n" * (line - 1) + "raise err", SCRIPT_FILENAME, "exec"), {"err": err})  # noqa: S102
    raise err


class IsolatedEnvironment(BasePythonScriptEngineEnvironment):
    """A SpiffWorkflow script environment: cheap conditions in-process, everything else in the sandbox pool.

    `effects` are replayed here after a successful run; `on_output` receives a run's print() lines."""

    def __init__(self, pool: SandboxPool, effects: Effects | None = None,
                 on_output: Callable[[tuple[str, ...]], None] | None = None, fast_path: bool = True):
        super().__init__({})
        self.pool, self.effects, self.on_output, self.fast_path = pool, effects or Effects(), on_output, fast_path

    def evaluate(self, expression, context, external_context=None):
        fast = fast_expression(expression) if self.fast_path else None
        if fast is not None:
            try:
                return fast.evaluate(context, external_context)
            except _NotFast:
                pass
        result = self.pool.run("eval", expression, context, external_context, self.effects.names)
        self._after(result)
        return result.value

    def execute(self, script, context, external_context=None):
        try:
            result = self.pool.run("exec", script, context, external_context, self.effects.names)
            self._after(result)
        except ScriptError as err:
            if err.line_number > 0:
                _raise_at_line(err, err.line_number)
            raise
        for name in [name for name in context if name not in result.context]:
            del context[name]
        context.update(result.context)
        return True

    def _after(self, result: ScriptResult) -> None:
        if result.output and self.on_output is not None:
            self.on_output(result.output)
        self.effects.replay(result.effects)


# --- the benchmark -----------------------------------------------------------------------------------------------
_BENCH_SCRIPT = ("total = sum(line['price'] * line['qty'] for line in lines)\n"
                 "vip = total > 100 and customer['tier'] in ('gold', 'silver')\n"
                 "label = 'n=%d' % len(lines)\n")
_BENCH_CONDITION = 'severity == "high" and category in ("safety", "billing")'


def _rate(n: int, run: Callable[[], Any]) -> float:
    run()
    started = time.perf_counter()
    for _ in range(n):
        run()
    return n / (time.perf_counter() - started)


def bench_scripts(n: int = 1000) -> dict[str, float]:
    """Runs per second: a small script in-process (plain RestrictedPython exec) and isolated; a condition on the
    fast path and (forced) in the sandbox."""
    from RestrictedPython import compile_restricted

    from .sandbox_child import _base_globals

    context = {"lines": [{"price": 12.5, "qty": i % 4 + 1} for i in range(10)], "customer": {"tier": "gold"},
               "severity": "high", "category": "billing", "note": "x" * 200}
    base = _base_globals(Policy().as_json())
    code = compile_restricted(_BENCH_SCRIPT, SCRIPT_FILENAME, "exec")
    with SandboxPool(SandboxLimits(pool_size=1)) as pool:
        environment = IsolatedEnvironment(pool)
        slow = IsolatedEnvironment(pool, fast_path=False)
        return {
            "in_process_scripts_per_s": _rate(n, lambda: exec(code, {**base, **context})),  # noqa: S102
            "isolated_scripts_per_s": _rate(n, lambda: environment.execute(_BENCH_SCRIPT, dict(context))),
            "fast_path_conditions_per_s": _rate(n, lambda: environment.evaluate(_BENCH_CONDITION, context)),
            "isolated_conditions_per_s": _rate(n, lambda: slow.evaluate(_BENCH_CONDITION, context)),
        }
