"""Expression languages besides Python, chosen by an expression's own syntax, and runtime extensions of dialects.

SpiffWorkflow hands every condition, timer value and data expression to the script engine's environment. A
feature (e.g. engine/camunda/ for JUEL `${...}`) registers an `ExpressionLanguage` here; an expression the
language `handles` is evaluated by it, everything else goes on to the Python sandbox unchanged. Languages are
recognised by syntax that is never valid Python (`${`, `#{`), so registering one cannot change what a Python
expression means.

`extensions` are named objects a dialect's task specs look up at run time through the workflow's script engine
(e.g. the service-task handler registry), so specs stay free of per-engine state.

A `TaskProgram` is a pre- or post-script a dialect's parser wrote in its own form rather than Python (Camunda's
input/output mappings and listeners): the script engine hands a script the program `handles` to it together with
the task, instead of to the sandbox.
"""

from __future__ import annotations

from typing import Any, Protocol


class ExpressionLanguage(Protocol):
    name: str

    def handles(self, expression: str) -> bool: ...

    def evaluate(self, expression: str, context: dict[str, Any]) -> Any: ...


class TaskProgram(Protocol):
    name: str

    def handles(self, script: str) -> bool: ...

    def run(self, task: Any, script: str) -> None: ...


class LanguageEnvironment:
    """A script environment that evaluates registered languages itself and delegates the rest to `inner`."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.languages: list[ExpressionLanguage] = []
        self.extensions: dict[str, Any] = {}
        self.programs: list[TaskProgram] = []

    def language_of(self, expression: Any) -> ExpressionLanguage | None:
        if not isinstance(expression, str):
            return None
        for language in self.languages:
            if language.handles(expression):
                return language
        return None

    def program_of(self, script: Any) -> TaskProgram | None:
        if not isinstance(script, str):
            return None
        return next((program for program in self.programs if program.handles(script)), None)

    def evaluate(self, expression, context, external_context=None):
        language = self.language_of(expression)
        if language is None:
            return self.inner.evaluate(expression, context, external_context)
        return language.evaluate(expression, {**context, **(external_context or {})})

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def environment_of(script_engine: Any) -> LanguageEnvironment:
    """The engine's language-aware environment, wrapped around its own on first use."""
    environment = script_engine.environment
    if not isinstance(environment, LanguageEnvironment):
        environment = LanguageEnvironment(environment)
        script_engine.environment = environment
    return environment


def register_language(script_engine: Any, language: ExpressionLanguage) -> None:
    environment = environment_of(script_engine)
    if all(existing.name != language.name for existing in environment.languages):
        environment.languages.append(language)


def register_program(script_engine: Any, program: TaskProgram) -> None:
    environment = environment_of(script_engine)
    if all(existing.name != program.name for existing in environment.programs):
        environment.programs.append(program)


def program_of(script_engine: Any, script: Any) -> TaskProgram | None:
    """The registered program that runs `script` itself, or None (then it is Python for the sandbox)."""
    environment = script_engine.environment
    return environment.program_of(script) if isinstance(environment, LanguageEnvironment) else None


def extension(script_engine: Any, name: str) -> Any:
    """A runtime extension registered on this script engine, or None."""
    environment = script_engine.environment
    return environment.extensions.get(name) if isinstance(environment, LanguageEnvironment) else None
