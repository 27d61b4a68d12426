"""BPMN scripts, conditions and DMN expressions for SpiffWorkflow, run isolated in the sandbox pool.

A deployed model is untrusted code: SpiffWorkflow would run it with plain ``eval``/``exec``. Here every script
goes to a sandbox process (sandbox.py: RestrictedPython inside, CPU and memory capped by the kernel) and only
conditions proven cheap run in this process (conditions.py). What a script may use is `sandbox_child.Policy`,
the one list of builtins and values; `notify(...)` is an effect replayed here, and `print()` lines go to the
instance's audit trail through `ScriptRun`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NoReturn

from RestrictedPython import compile_restricted
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.core.conditions import ExpressionFailed, NotFast, fast_expression
from engine.core.languages import program_of
from engine.core.sandbox import Effects, SandboxError, SandboxLimits, SandboxPool, ScriptError, ScriptResult
from engine.core.sandbox_child import SCRIPT_FILENAME, Policy

MAX_OUTPUT_EVENTS = 20  # print() output kept per unit of work, in events of at most 50 lines / 4 KB each


class SandboxViolation(Exception):
    """A script breaks a RestrictedPython rule (found when it is compiled, e.g. at deploy)."""


@lru_cache(maxsize=4096)
def compile_expression(source: str, mode: str):
    """Compile under the sandbox's rules; a rule break raises `SandboxViolation` with RestrictedPython's reasons."""
    try:
        return compile_restricted(source, SCRIPT_FILENAME, mode)
    except SyntaxError as err:
        reasons = err.args[0] if err.args and isinstance(err.args[0], tuple | list) else err.args
        raise SandboxViolation("; ".join(str(r) for r in reasons) or str(err)) from err


# --- what one unit of work's scripts printed ---------------------------------------------------------------------
@dataclass
class ScriptRun:
    """Collects the print() output of the scripts one unit of work runs, with the element that printed it."""

    output: list[tuple[str | None, tuple[str, ...]]] = field(default_factory=list)
    element_id: str | None = None

    def __enter__(self) -> ScriptRun:
        self._token = _current.set(self)
        return self

    def __exit__(self, *exc) -> None:
        _current.reset(self._token)

    def printed(self, lines: tuple[str, ...]) -> None:
        if len(self.output) < MAX_OUTPUT_EVENTS:
            self.output.append((self.element_id, lines))


_current: ContextVar[ScriptRun | None] = ContextVar("clientflow_script_run", default=None)


def _printed(lines: tuple[str, ...]) -> None:
    run = _current.get()
    if run is not None:
        run.printed(lines)


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
            except NotFast:
                pass
            except ExpressionFailed as failed:
                raise ScriptError(type(failed.error).__name__, str(failed.error), 1) from failed.error
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


class SandboxedScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine, remembering which element runs (for print() output) and refusing service
    calls with a clear error (SpiffWorkflow's own error path for them raises a NameError)."""

    def evaluate(self, task, expression, external_context=None):
        with _running(task):
            return super().evaluate(task, expression, external_context)

    def execute(self, task, script, external_context=None):
        program = program_of(self, script)
        with _running(task):
            if program is not None:
                program.run(task, script)
                return True
            return super().execute(task, script, external_context)

    def call_service(self, task, **kwargs):
        operation = kwargs.get("operation_name") or getattr(task.task_spec, "operation_name", None) or "?"
        raise WorkflowTaskException(f"service task calls are not supported (operation {operation!r}); use a "
                                    "script task", task=task)


class _running:
    def __init__(self, task):
        self.run = _current.get()
        self.element_id = getattr(task.task_spec, "bpmn_id", None) if task is not None else None

    def __enter__(self) -> None:
        if self.run is not None:
            self.previous, self.run.element_id = self.run.element_id, self.element_id

    def __exit__(self, *exc) -> None:
        if self.run is not None:
            self.run.element_id = self.previous


def script_engine(pool: SandboxPool, effects: dict[str, Callable[..., Any]]) -> SandboxedScriptEngine:
    """A SpiffWorkflow script engine running everything through `pool`; `effects` act in this process."""
    return SandboxedScriptEngine(environment=IsolatedEnvironment(pool, Effects(effects), on_output=_printed))


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
    """Runs per second: a small script in-process (plain RestrictedPython exec, no limits) and isolated; a
    condition on the fast path and (forced) in the sandbox."""
    from engine.core.sandbox_child import _base_globals

    context = {"lines": [{"price": 12.5, "qty": i % 4 + 1} for i in range(10)], "customer": {"tier": "gold"},
               "severity": "high", "category": "billing", "note": "x" * 200}
    base = _base_globals(Policy().as_json())
    code = compile_expression(_BENCH_SCRIPT, "exec")
    with SandboxPool(SandboxLimits(pool_size=1)) as pool:
        environment = IsolatedEnvironment(pool)
        slow = IsolatedEnvironment(pool, fast_path=False)
        return {
            "in_process_scripts_per_s": _rate(n, lambda: exec(code, {**base, **context})),  # noqa: S102
            "isolated_scripts_per_s": _rate(n, lambda: environment.execute(_BENCH_SCRIPT, dict(context))),
            "fast_path_conditions_per_s": _rate(n, lambda: environment.evaluate(_BENCH_CONDITION, context)),
            "isolated_conditions_per_s": _rate(n, lambda: slow.evaluate(_BENCH_CONDITION, context)),
        }
