"""Expression languages besides Python, chosen by an expression's own syntax, and runtime extensions of dialects.

SpiffWorkflow hands every condition, timer value and data expression to the script engine's environment. A
feature (e.g. engine/camunda/ for JUEL `${...}`) registers an `ExpressionLanguage` here; an expression the
language `handles` is evaluated by it, everything else goes on to the Python sandbox unchanged. Languages are
recognised by syntax that is never valid Python (`${`, `#{`), so registering one cannot change what a Python
expression means.

`extensions` are named objects a dialect's task specs look up at run time through the workflow's script engine
(e.g. the service-task handler registry), so specs stay free of per-engine state.
"""

from __future__ import annotations

from typing import Any, Protocol


class ExpressionLanguage(Protocol):
    name: str

    def handles(self, expression: str) -> bool: ...

    def evaluate(self, expression: str, context: dict[str, Any]) -> Any: ...


class LanguageEnvironment:
    """A script environment that evaluates registered languages itself and delegates the rest to `inner`."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.languages: list[ExpressionLanguage] = []
        self.extensions: dict[str, Any] = {}

    def language_of(self, expression: Any) -> ExpressionLanguage | None:
        if not isinstance(expression, str):
            return None
        for language in self.languages:
            if language.handles(expression):
                return language
        return None

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


def extension(script_engine: Any, name: str) -> Any:
    """A runtime extension registered on this script engine, or None."""
    environment = script_engine.environment
    return environment.extensions.get(name) if isinstance(environment, LanguageEnvironment) else None
