"""Sandboxed evaluation of BPMN script tasks, conditions and DMN expressions.

SpiffWorkflow runs expressions with plain ``eval``/``exec``; a deployed model is untrusted code, so every
expression here is compiled by RestrictedPython (no imports, no dunder or private attribute access, no
``open``/``eval``/``exec``), runs with a small allow-list of builtins, and is stopped when it runs longer
than its time budget or builds a huge value in one operation.
"""

from __future__ import annotations

import ast
import datetime as _datetime
import math
import sys
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.core.outbox import notify

# SpiffWorkflow looks for this file name in tracebacks to report the failing line of a script.
SCRIPT_FILENAME = "<string>"
DEFAULT_TIME_LIMIT = 1.0
MAX_SEQUENCE = 1_000_000
MAX_POWER_DIGITS = 10_000


class SandboxViolation(Exception):
    """A script broke a sandbox rule (forbidden construct, time or size budget)."""


class _GuardedOperators(RestrictingNodeTransformer):
    """RestrictedPython's policy plus guards on operators that can build huge values in one step."""

    _GUARDED = {ast.Pow: "pow", ast.Mult: "mul", ast.LShift: "lshift"}

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        name = self._GUARDED.get(type(node.op))
        if name is None:
            return node
        call = ast.Call(func=ast.Name("_binop_guard_", ast.Load()),
                        args=[ast.Constant(name), node.left, node.right], keywords=[])
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def visit_AugAssign(self, node):
        if type(node.op) in self._GUARDED:
            self.error(node, "Augmented assignment with *, ** or << is not allowed in scripts; "
                             "write `x = x * y` instead.")
        return super().visit_AugAssign(node)


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


def _binop_guard(op: str, left: Any, right: Any) -> Any:
    if op == "pow":
        if isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0:
            if right * math.log10(abs(left)) > MAX_POWER_DIGITS:
                raise SandboxViolation(f"result of ** would exceed {MAX_POWER_DIGITS} digits")
        return left**right
    if op == "lshift":
        if isinstance(right, int) and right > MAX_POWER_DIGITS * 4:
            raise SandboxViolation("shift too large")
        return left << right
    for seq, times in ((left, right), (right, left)):
        size = _size(seq)
        if size is not None and isinstance(times, int) and size * times > MAX_SEQUENCE:
            raise SandboxViolation(f"sequence of more than {MAX_SEQUENCE} items")
    return left * right


def _inplace(op: str, left: Any, right: Any) -> Any:
    if op == "+=":
        return left + right
    if op == "-=":
        return left - right
    if op == "/=":
        return left / right
    if op == "//=":
        return left // right
    if op == "%=":
        return left % right
    raise SandboxViolation(f"operator {op} is not allowed in scripts")


@lru_cache(maxsize=4096)
def compile_expression(source: str, mode: str):
    """Compile once per distinct expression; RestrictedPython reports rule breaks as SyntaxError."""
    try:
        return compile_restricted(source, SCRIPT_FILENAME, mode, policy=_GuardedOperators)
    except SyntaxError as err:
        reasons = err.args[0] if err.args and isinstance(err.args[0], tuple | list) else err.args
        raise SandboxViolation("; ".join(str(r) for r in reasons) or str(err)) from err


_ALLOWED_BUILTINS = {
    **safe_builtins,
    "min": min, "max": max, "sum": sum, "any": any, "all": all, "sorted": sorted, "enumerate": enumerate,
    "zip": zip, "map": map, "filter": filter, "list": list, "dict": dict, "set": set, "reversed": reversed,
    "round": round, "abs": abs, "len": len,
}
_ALLOWED_BUILTINS.pop("__import__", None)
_ALLOWED_BUILTINS.pop("setattr", None)
_ALLOWED_BUILTINS.pop("delattr", None)

_RESERVED = {
    "__builtins__", "_getattr_", "_getitem_", "_getiter_", "_write_", "_iter_unpack_sequence_",
    "_unpack_sequence_", "_inplacevar_", "_binop_guard_", "_print_", "_apply_",
}


class _Deadline:
    """A line tracer that stops sandboxed code once its time budget is spent (works in any thread)."""

    def __init__(self, seconds: float):
        self.until = time.monotonic() + seconds
        self.seconds = seconds
        self.ticks = 0

    def __call__(self, frame, event, arg):
        if frame.f_code.co_filename != SCRIPT_FILENAME:
            return None
        return self._local

    def _local(self, frame, event, arg):
        self.ticks += 1
        if self.ticks & 0xFF == 0 and time.monotonic() > self.until:
            raise SandboxViolation(f"script ran longer than {self.seconds:g}s and was stopped")
        return self._local


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Runs task scripts and conditions under RestrictedPython with a time budget."""

    def __init__(self, functions: dict[str, Callable] | None = None, time_limit: float = DEFAULT_TIME_LIMIT):
        base = {"datetime": _datetime.datetime, "timedelta": _datetime.timedelta, "date": _datetime.date,
                "notify": notify}
        super().__init__({**base, **(functions or {})})
        self.time_limit = time_limit

    def _globals(self, context: dict, external_context: dict | None) -> dict:
        return {
            "__builtins__": _ALLOWED_BUILTINS,
            "_getattr_": safer_getattr,
            "_getitem_": default_guarded_getitem,
            "_getiter_": iter,
            "_write_": full_write_guard,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_inplacevar_": _inplace,
            "_binop_guard_": _binop_guard,
            **self.globals,
            **(external_context or {}),
            **context,
        }

    def _run(self, code, namespace: dict):
        deadline = _Deadline(self.time_limit)
        previous = sys.gettrace()
        sys.settrace(deadline)
        try:
            return eval(code, namespace)  # noqa: S307 - code was compiled by RestrictedPython
        finally:
            sys.settrace(previous)

    def evaluate(self, expression, context, external_context=None):
        return self._run(compile_expression(expression, "eval"), self._globals(context, external_context))

    def execute(self, script, context, external_context=None):
        namespace = self._globals(context, external_context)
        before = set(namespace)
        self._run(compile_expression(script, "exec"), namespace)
        hidden = _RESERVED | set(self.globals) | set(external_context or {})
        for name in list(context):
            if name not in namespace:
                del context[name]
        for name, value in namespace.items():
            if name in hidden and name not in context:
                continue
            if callable(value) or type(value).__name__ == "module":
                if name not in before:
                    continue
                if name in hidden:
                    continue
            context[name] = value
        return True


def script_engine(functions: dict[str, Callable] | None = None,
                  time_limit: float = DEFAULT_TIME_LIMIT) -> PythonScriptEngine:
    """A SpiffWorkflow script engine that runs everything in the sandbox."""
    return PythonScriptEngine(environment=SandboxEnvironment(functions, time_limit))
