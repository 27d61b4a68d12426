"""Cheap conditions evaluated in the calling process: an AST whitelist proves they cannot loop or allocate.

Everything else (scripts, and any expression outside the whitelist) runs in the sandbox pool (sandbox.py).
"""

from __future__ import annotations

import ast
import operator
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from functools import lru_cache
from typing import Any

from .sandbox_child import SCRIPT_FILENAME

__all__ = ["ExpressionFailed", "FastExpression", "NotFast", "fast_expression"]


class ExpressionFailed(Exception):
    """A fast-path expression raised (e.g. ZeroDivisionError); `error` is what it raised."""

    def __init__(self, error: Exception):
        super().__init__(f"{type(error).__name__}: {error}")
        self.error = error


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


class NotFast(Exception):
    """Only the sandbox can decide this expression (a run-time surprise)."""


class _Refused(Exception):
    pass


def _fast_arith(op: Callable[[Any, Any], Any], left: Any, right: Any) -> Any:
    if not (isinstance(left, _NUMBERS) and isinstance(right, _NUMBERS)):
        raise NotFast()
    if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > 100_000:
        raise NotFast()
    return op(left, right)


def _fast_call(name: str, *args: Any) -> Any:
    if any(type(arg) not in _DATA_TYPES for arg in args):
        raise NotFast()
    return _FAST_FUNCTIONS[name](*args)


def _fast_method(target: Any, name: str, *args: Any) -> Any:
    if name not in _FAST_METHODS.get(type(target), ()):
        raise NotFast()
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
        """The expression's value; raises NotFast when only the sandbox can decide."""
        names = ChainMap(context, external) if external else context
        if any(name in names for name in _HELPERS) or any(name in names for name in self.called):
            raise NotFast()
        try:
            return eval(self.code, _FAST_GLOBALS, names)  # noqa: S307 - whitelisted tree, see _rewrite
        except (NotFast, NameError):
            raise NotFast() from None
        except Exception as err:
            raise ExpressionFailed(err) from err


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
