"""Evaluating the JUEL subset of Camunda 7 models over an instance's variables (the grammar: el_parse.py).

Values follow JUEL's coercions where models rely on them: `null` is 0 in arithmetic and false in logic, `+`
adds numbers (numeric strings are numbers), `==` compares numbers as numbers and anything else with a string as
text, `/` always divides as decimals. Only the tree's own nodes are interpreted: no attribute of any object is
reachable, only the methods listed in el_parse.py.
"""

from __future__ import annotations

from typing import Any

from engine.camunda.el_parse import LONG_MAX, LONG_MIN, ELError, is_expression, parse

__all__ = ["ELError", "JuelLanguage", "evaluate", "is_expression"]

_STRING_METHODS = {
    "length": lambda s: len(s), "isEmpty": lambda s: len(s) == 0, "trim": lambda s: s.strip(),
    "toUpperCase": lambda s: s.upper(), "toLowerCase": lambda s: s.lower(),
    "contains": lambda s, x: _text(x) in s, "startsWith": lambda s, x: s.startswith(_text(x)),
    "endsWith": lambda s, x: s.endswith(_text(x)), "equals": lambda s, x: s == x,
    "indexOf": lambda s, x: s.find(_text(x)),
    "substring": lambda s, a, b=None: s[_int(a):None if b is None else _int(b)],
}
_COLLECTION_METHODS = {
    "size": lambda c: len(c), "isEmpty": lambda c: len(c) == 0,
    "contains": lambda c, x: x in c, "containsKey": lambda c, x: isinstance(c, dict) and x in c,
    "get": lambda c, x: _item(c, x),
}


class Execution:
    """`execution` (and `task`) in an expression: the instance's variables, nothing else."""

    def __init__(self, variables: dict[str, Any], business_key: str | None):
        self.variables, self.business_key = variables, business_key

    def call(self, name: str, args: list[Any]) -> Any:
        if name == "getVariable" and len(args) == 1:
            return self.variables.get(_text(args[0]))
        if name == "hasVariable" and len(args) == 1:
            return _text(args[0]) in self.variables
        if name == "getVariables" and not args:
            return dict(self.variables)
        if name == "setVariable" and len(args) == 2:
            self.variables[_text(args[0])] = args[1]
            return None
        if name in ("getProcessBusinessKey", "getBusinessKey") and not args:
            return self.business_key
        raise ELError(f"execution.{name}() with {len(args)} argument(s) is not supported")

    def property(self, name: str) -> Any:
        """`execution.processBusinessKey` and `execution.businessKey` (JUEL's bean properties of the getters)."""
        if name in ("processBusinessKey", "businessKey"):
            return self.business_key
        if name == "variables":
            return dict(self.variables)
        raise ELError(f"execution.{name} is not supported")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return repr(value)
    return str(value)


def _int(value: Any) -> int:
    number = _number(value)
    if isinstance(number, float):
        raise ELError(f"{value!r} is not a whole number")
    return number


def _number(value: Any) -> int | float:
    if value is None:
        return 0
    if isinstance(value, bool):
        raise ELError(f"cannot use the boolean {_text(value)} as a number")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                raise ELError(f"cannot use {value!r} as a number") from None
    raise ELError(f"cannot use a {type(value).__name__} as a number")


def _truth(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", ""):
        return value.lower() == "true"
    raise ELError(f"cannot use {value!r} as a boolean")


def _long(value: int | float) -> int | float:
    if isinstance(value, int) and not LONG_MIN <= value <= LONG_MAX:
        raise ELError("integer overflow: the result does not fit in 64 bits")
    return value


def _item(container: Any, key: Any) -> Any:
    if isinstance(container, Execution):
        return container.property(_text(key))
    if isinstance(container, dict):
        return container.get(key if key in container else _text(key))
    if isinstance(container, list | tuple | str):
        index = _int(key)
        if not 0 <= index < len(container):
            raise ELError(f"index {index} is out of range (size {len(container)})")
        return container[index]
    if container is None:
        return None
    raise ELError(f"cannot read property {_text(key)!r} of a {type(container).__name__}")


def _equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return _truth(a) == _truth(b)
    if isinstance(a, int | float) or isinstance(b, int | float):
        return _number(a) == _number(b)
    if isinstance(a, str) or isinstance(b, str):
        return _text(a) == _text(b)
    return a == b


def _compare(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        left, right = a, b
    else:
        left, right = _number(a), _number(b)
    return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]


def _arithmetic(op: str, a: Any, b: Any) -> int | float:
    left, right = _number(a), _number(b)
    if op == "+":
        return _long(left + right)
    if op == "-":
        return _long(left - right)
    if op == "*":
        return _long(left * right)
    if right == 0:
        raise ELError("division by zero")
    if op == "/":
        return left / right
    return _long(left % right) if isinstance(left, int) and isinstance(right, int) else left % right


class Evaluator:
    """Walks one parsed tree over `variables`."""

    def __init__(self, variables: dict[str, Any], business_key: str | None = None):
        self.variables = variables
        self.execution = Execution(variables, business_key)

    def value(self, node: tuple) -> Any:
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "var":
            return self.variable(node[1])
        if kind == "get":
            return _item(self.value(node[1]), self.value(node[2]))
        if kind == "call":
            return self.call(node)
        if kind == "not":
            return not _truth(self.value(node[1]))
        if kind == "neg":
            return _long(-_number(self.value(node[1])))
        if kind == "empty":
            operand = self.value(node[1])
            return operand is None or (isinstance(operand, str | list | tuple | dict) and len(operand) == 0)
        if kind == "if":
            return self.value(node[2]) if _truth(self.value(node[1])) else self.value(node[3])
        return self.binary(node[1], node[2], node[3])

    def variable(self, name: str) -> Any:
        if name in ("execution", "task"):
            return self.execution
        if name not in self.variables:
            raise ELError(f"unknown variable {name!r}")
        return self.variables[name]

    def binary(self, op: str, left_node: tuple, right_node: tuple) -> Any:
        if op == "&&":
            return _truth(self.value(left_node)) and _truth(self.value(right_node))
        if op == "||":
            return _truth(self.value(left_node)) or _truth(self.value(right_node))
        left, right = self.value(left_node), self.value(right_node)
        if op == "==":
            return _equal(left, right)
        if op == "!=":
            return not _equal(left, right)
        if op in ("<", ">", "<=", ">="):
            return _compare(op, left, right)
        return _arithmetic(op, left, right)

    def call(self, node: tuple) -> Any:
        _kind, target_node, name, arg_nodes = node
        target = self.value(target_node)
        args = [self.value(a) for a in arg_nodes]
        if isinstance(target, Execution):
            return target.call(name, args)
        methods = _STRING_METHODS if isinstance(target, str) else \
            _COLLECTION_METHODS if isinstance(target, list | tuple | dict) else {}
        method = methods.get(name)
        if method is None:
            raise ELError(f"method {name}() is not available on a {type(target).__name__}")
        try:
            return method(target, *args)
        except TypeError:
            raise ELError(f"{name}() does not take {len(args)} argument(s)") from None

    def text(self, value: Any) -> str:
        return _text(value)


def evaluate(text: str, variables: dict[str, Any], business_key: str | None = None) -> Any:
    """The value of a JUEL expression over `variables` (a single `${...}` keeps its type; a composite is text).

    `execution.setVariable` writes into `variables`."""
    _kind, parts = parse(text)
    evaluator = Evaluator(variables, business_key)
    if len(parts) == 1 and isinstance(parts[0], tuple):
        return evaluator.value(parts[0])
    return "".join(p if isinstance(p, str) else _text(evaluator.value(p)) for p in parts)


class JuelLanguage:
    """The kernel's `ExpressionLanguage` for JUEL (engine/core/languages.py)."""

    name = "juel"

    def handles(self, expression: str) -> bool:
        return is_expression(expression)

    def evaluate(self, expression: str, context: dict[str, Any]) -> Any:
        return evaluate(expression, context, context.get("businessKey") or context.get("reference"))
