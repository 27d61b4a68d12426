"""The JUEL subset: examples of each construct, property tests against Python's arithmetic and logic, and the
sandbox (nothing outside the whitelist is reachable; every failure is an `ELError`)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.camunda.el import ELError, evaluate

DATA = {"approved": False, "amount": 1200, "name": "Ann", "items": [1, 2], "customer": {"tier": "gold"},
        "none": None, "flag": "true"}


@pytest.mark.parametrize(("expression", "expected"), [
    ("${not approved}", True),
    ("${!approved && amount > 1000}", True),
    ("${amount gt 1000 ? 'big' : 'small'}", "big"),
    ("${amount ge 1200 and amount le 1200}", True),
    ("${amount eq 1200 or approved}", True),
    ("${amount ne 1200}", False),
    ("${amount lt 5}", False),
    ("${empty items}", False),
    ("${empty none}", True),
    ("${not empty name}", True),
    ("${customer.tier == 'gold'}", True),
    ("${customer['tier']}", "gold"),
    ("${items[1] * 3 - 1}", 5),
    ("${7 / 2}", 3.5),
    ("${7 div 2}", 3.5),
    ("${7 % 4}", 3),
    ("${7 mod 4}", 3),
    ("${-amount}", -1200),
    ("${none + 1}", 1),
    ("${'5' + 1}", 6),
    ("${amount == '1200'}", True),
    ("${flag}", "true"),
    ("${flag && true}", True),
    ("${execution.getVariable('name')}", "Ann"),
    ("${execution.hasVariable('nope')}", False),
    ("${name.toUpperCase()}", "ANN"),
    ("${name.startsWith('A') && items.size() == 2}", True),
    ("${name.substring(1)}", "nn"),
    ("#{amount * 2}", 2400),
    ("Dear ${name}, ${amount} due", "Dear Ann, 1200 due"),
    ("${true}", True),
    ("${null}", None),
    ("${1.5e2}", 150.0),
])
def test_constructs(expression, expected):
    assert evaluate(expression, dict(DATA)) == expected


def test_execution_properties():
    assert evaluate("#{execution.processBusinessKey}-${execution.businessKey}", {}, "BK-1") == "BK-1-BK-1"
    assert evaluate("${execution.variables.name}", dict(DATA)) == "Ann"
    with pytest.raises(ELError, match="execution.engine is not supported"):
        evaluate("${execution.engine}", {})


def test_set_variable_writes_into_the_variables():
    variables = {"a": 1}
    assert evaluate("${execution.setVariable('b', a + 1)}", variables) is None
    assert variables == {"a": 1, "b": 2}


@pytest.mark.parametrize("expression", [
    "${x}", "${name.__class__}", "${name.format('x')}", "${items.pop()}", "${customer.tier.__len__()}",
    "${amount / 0}", "${9223372036854775807 + 1}", "${'a' + 'b'}", "${", "${}", "${1 +}", "${a b}",
    "${(1}", "${items[9]}", "${name.length(1)}", "${approved > 'x'}", "${" + "(" * 100 + "1" + ")" * 100 + "}",
    "${" + "1+" * 3000 + "1}",
])
def test_refused_or_failing_expressions_raise_elerror(expression):
    with pytest.raises(ELError):
        evaluate(expression, dict(DATA))


small = st.integers(min_value=-10_000, max_value=10_000)


@given(small, small, st.sampled_from(["+", "-", "*"]))
def test_integer_arithmetic_matches_python(a, b, op):
    python = {"+": a + b, "-": a - b, "*": a * b}[op]
    assert evaluate(f"${{x {op} y}}", {"x": a, "y": b}) == python


@given(small, small, st.sampled_from([("<", "lt"), (">", "gt"), ("<=", "le"), (">=", "ge"), ("==", "eq"),
                                      ("!=", "ne")]))
def test_comparisons_match_python_in_both_spellings(a, b, ops):
    symbol, word = ops
    expected = eval(f"{a} {symbol} {b}")  # noqa: S307 - two integers
    assert evaluate(f"${{x {symbol} y}}", {"x": a, "y": b}) is expected
    assert evaluate(f"${{x {word} y}}", {"x": a, "y": b}) is expected


@given(st.booleans(), st.booleans(), st.booleans())
def test_logic_and_ternary_match_python(p, q, r):
    variables = {"p": p, "q": q, "r": r}
    assert evaluate("${p && !q || r}", variables) is ((p and not q) or r)
    assert evaluate("${p and (q or not r)}", variables) is (p and (q or not r))
    assert evaluate("${p ? q : r}", variables) is (q if p else r)


@given(st.text(max_size=60))
@settings(max_examples=300)
def test_any_text_inside_braces_parses_or_raises_elerror(body):
    try:
        evaluate("${" + body + "}", dict(DATA))
    except ELError:
        pass
