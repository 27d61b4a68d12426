"""Parsing the JUEL subset (engine/camunda/el.py): tokens, a precedence-climbing parser, composite text.

Supported: variables and properties (`a.b`, `a['b']`, `a[0]`), literals (numbers, 'strings', "strings", true,
false, null), arithmetic (`+ - * / div % mod`), comparison (`== != < > <= >=` and `eq ne lt gt le ge`),
`&& || ! and or not empty`, the ternary `a ? b : c`, and method calls on a whitelist: `execution.getVariable`,
`hasVariable`, `getVariables`, `setVariable`, `getProcessBusinessKey` (the same on `task`), and a few string and
list methods (`length`, `size`, `isEmpty`, `contains`, `startsWith`, `endsWith`, `toUpperCase`, `toLowerCase`,
`trim`, `equals`, `substring`, `indexOf`).

It is an interpreter over a parsed tree, not Python: nothing outside that list is reachable (no attribute of any
object, no function, no loop), integers stay within Java's 64-bit range, and an expression is at most
`MAX_LENGTH` characters, so every evaluation is small and bounded. Text around or between `${...}` parts is a
composite expression: the parts are joined as text, as JUEL does.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

MAX_LENGTH = 4000
MAX_DEPTH = 60
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1


class ELError(Exception):
    """An expression that does not parse, or fails when evaluated (unknown variable, bad operand...)."""


_TOKEN = re.compile(r"""
    \s*(?:
      (?P<number>\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?)
    | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
    | (?P<op>==|!=|<=|>=|&&|\|\||[-+*/%<>!?:.,()\[\]])
    )""", re.VERBOSE)

_WORD_OPS = {"and": "&&", "or": "||", "not": "!", "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=",
             "ge": ">=", "div": "/", "mod": "%", "empty": "empty"}
_LITERALS = {"true": True, "false": False, "null": None}
_BINARY = {"||": 1, "&&": 2, "==": 3, "!=": 3, "<": 4, ">": 4, "<=": 4, ">=": 4, "+": 5, "-": 5, "*": 6, "/": 6,
           "%": 6}


def _tokens(text: str) -> list[tuple[str, Any]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ELError(f"unexpected character {text[pos:].lstrip()[:1]!r} in expression")
        pos = match.end()
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "number":
            out.append(("lit", float(value) if any(c in value for c in ".eE") else int(value)))
        elif kind == "string":
            out.append(("lit", re.sub(r"\\(.)", r"\1", value[1:-1])))
        elif kind == "name" and value in _LITERALS:
            out.append(("lit", _LITERALS[value]))
        elif kind == "name" and value in _WORD_OPS:
            out.append(("op", _WORD_OPS[value]))
        else:
            out.append((kind, value))
    return out


class _Parser:
    """Precedence climbing over the tokens; the tree is nested tuples."""

    def __init__(self, tokens: list[tuple[str, Any]]):
        self.tokens, self.pos, self.depth = tokens, 0, 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, op: str | None = None) -> tuple[str, Any]:
        token = self.peek()
        if token is None:
            raise ELError("expression ends too early" + (f": expected {op!r}" if op else ""))
        if op is not None and token != ("op", op):
            raise ELError(f"expected {op!r}, found {token[1]!r}")
        self.pos += 1
        return token

    def expression(self) -> tuple:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ELError("expression is nested too deeply")
        condition = self.binary(1)
        if self.peek() == ("op", "?"):
            self.take("?")
            then = self.expression()
            self.take(":")
            otherwise = self.expression()
            condition = ("if", condition, then, otherwise)
        self.depth -= 1
        return condition

    def binary(self, level: int) -> tuple:
        left = self.unary()
        while True:
            token = self.peek()
            if token is None or token[0] != "op" or _BINARY.get(token[1], 0) < level:
                return left
            self.take()
            right = self.binary(_BINARY[token[1]] + 1)
            left = ("bin", token[1], left, right)

    def unary(self) -> tuple:
        token = self.peek()
        if token in (("op", "!"), ("op", "-"), ("op", "empty")):
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ELError("expression is nested too deeply")
            operand = self.unary()
            self.depth -= 1
            return ("not" if token[1] == "!" else "neg" if token[1] == "-" else "empty", operand)
        return self.postfix(self.primary())

    def primary(self) -> tuple:
        kind, value = self.take()
        if kind == "lit":
            return ("lit", value)
        if kind == "name":
            return ("var", value)
        if (kind, value) == ("op", "("):
            inner = self.expression()
            self.take(")")
            return inner
        raise ELError(f"unexpected {value!r}")

    def postfix(self, node: tuple) -> tuple:
        while True:
            token = self.peek()
            if token == ("op", "."):
                self.take()
                kind, name = self.take()
                if kind != "name":
                    raise ELError(f"expected a property name after '.', found {name!r}")
                if self.peek() == ("op", "("):
                    node = ("call", node, name, self.arguments())
                else:
                    node = ("get", node, ("lit", name))
            elif token == ("op", "["):
                self.take()
                key = self.expression()
                self.take("]")
                node = ("get", node, key)
            else:
                return node

    def arguments(self) -> list[tuple]:
        self.take("(")
        args = []
        if self.peek() != ("op", ")"):
            args.append(self.expression())
            while self.peek() == ("op", ","):
                self.take()
                args.append(self.expression())
        self.take(")")
        return args


_PART = re.compile(r"[$#]\{")


def is_expression(text: Any) -> bool:
    """Whether `text` holds a `${...}`/`#{...}` part (and so is JUEL, never Python)."""
    return isinstance(text, str) and _PART.search(text) is not None


@lru_cache(maxsize=2048)
def parse(text: str) -> tuple:
    """A composite of literal text and parsed `${...}` parts: ("parts", [str | tree, ...])."""
    if len(text) > MAX_LENGTH:
        raise ELError(f"expression longer than {MAX_LENGTH} characters")
    parts, pos = [], 0
    while True:
        match = _PART.search(text, pos)
        if match is None:
            if text[pos:]:
                parts.append(text[pos:])
            return ("parts", tuple(parts))
        if match.start() > pos:
            parts.append(text[pos:match.start()])
        end, depth, quote = match.end(), 1, None
        while end < len(text) and depth:
            char = text[end]
            if quote:
                if char == "\\":
                    end += 1
                elif char == quote:
                    quote = None
            elif char in "'\"":
                quote = char
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
            end += 1
        if depth:
            raise ELError("unclosed '${' in expression")
        parser = _Parser(_tokens(text[match.end():end - 1]))
        if parser.peek() is None:
            raise ELError("empty expression '${}'")
        tree = parser.expression()
        if parser.peek() is not None:
            raise ELError(f"unexpected {parser.peek()[1]!r} after the end of the expression")
        parts.append(tree)
        pos = end
