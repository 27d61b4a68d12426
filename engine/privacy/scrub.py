"""Finding and replacing a person's values in workflow state and in JSON or text of the derived tables.

Two passes make an erasure thorough without touching the facts reports need:
- by key: every value stored under a personal field's path becomes a tombstone, wherever a copy of the data
  sits (each task's data, its delta, event payloads, the workflow's own data);
- by value: the erased values are then replaced wherever they were copied into other text (a greeting built
  by a script, a notification payload, an audit note). Values of enum fields (categories) and very short
  values are only erased in place, so a category or a common word elsewhere is never destroyed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

TOMBSTONE = "[erased]"
# Shorter values are replaced only where a whole string equals them, never inside other text.
MIN_SUBSTRING = 4


def workflows(state: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The top-level workflow of a serialized state and every subprocess in it."""
    yield state
    for sub in (state.get("subprocesses") or {}).values():
        if isinstance(sub, dict):
            yield from workflows(sub)


def data_dicts(state: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every process-data dictionary of a serialized state (workflow data and each task's data)."""
    for workflow in workflows(state):
        if isinstance(workflow.get("data"), dict):
            yield workflow["data"]
        for task in (workflow.get("tasks") or {}).values():
            if isinstance(task.get("data"), dict):
                yield task["data"]


def values_at(data: dict[str, Any], path: str) -> list[Any]:
    head, _, rest = path.partition(".")
    if head not in data:
        return []
    if not rest:
        return [data[head]]
    inner = data[head]
    return values_at(inner, rest) if isinstance(inner, dict) else []


def personal_values(state: dict[str, Any], paths: Iterable[str]) -> dict[str, set[str]]:
    """Every non-empty value found under each path in any copy of the process data, as text."""
    found: dict[str, set[str]] = {}
    paths = list(paths)
    for data in data_dicts(state):
        for path in paths:
            for value in values_at(data, path):
                if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value).strip():
                    found.setdefault(path, set()).add(str(value).strip())
    return found


class Scrubber:
    """Replaces one person's values: under personal keys, and wherever the values were copied to."""

    def __init__(self, paths: Iterable[str], values: Iterable[str], token: str = TOMBSTONE,
                 keep_types: bool = True):
        self.paths = sorted(set(paths))
        self.token = token
        # Erasure keeps a number or list field a number or list (None, []); a redacted page just shows the token.
        self.keep_types = keep_types
        values = list(values)
        self.exact = {v.strip().casefold() for v in values if v and v.strip()}
        long = sorted((v.strip() for v in values if v and len(v.strip()) >= MIN_SUBSTRING), key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in long), re.IGNORECASE) if long else None
        self.erased_paths: set[str] = set()

    def text(self, value: str) -> str:
        if value.strip().casefold() in self.exact:
            return self.token
        return self._pattern.sub(self.token, value) if self._pattern is not None else value

    def any(self, value: Any) -> Any:
        """Value-based pass over any JSON value (dict keys are field names and stay)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.any(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.any(v) for v in value]
        return value

    def data(self, value: Any) -> Any:
        """Both passes over process data: personal keys at any depth become tombstones, then the values go."""
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if not isinstance(value, dict):
            return self.any(value)
        keyed = dict(value)
        for path in self.paths:
            if _tombstone_at(keyed, path, self.token, self.keep_types):
                self.erased_paths.add(path)
        return {k: self.data(v) for k, v in keyed.items()}

    def state(self, state: dict[str, Any]) -> dict[str, Any]:
        """A serialized workflow with every data area scrubbed; the structure (specs, ids, states) is kept."""
        for workflow in workflows(state):
            for key in ("data", "correlations", "bpmn_events"):
                if key in workflow:
                    workflow[key] = self.data(workflow[key])
            for task in (workflow.get("tasks") or {}).values():
                for key in ("data", "internal_data", "delta"):
                    if key in task:
                        task[key] = self.data(task[key])
        return state


def _tombstone_at(data: dict[str, Any], path: str, token: str, keep_types: bool) -> bool:
    head, _, rest = path.partition(".")
    if head not in data:
        return False
    if rest:
        inner = data[head]
        if not isinstance(inner, dict):
            return False
        inner = dict(inner)
        changed = _tombstone_at(inner, rest, token, keep_types)
        data[head] = inner
        return changed
    value = data[head]
    if value in (None, "", [], {}) or value == token:
        return False
    if isinstance(value, str) or not keep_types:
        data[head] = token
    else:
        data[head] = [] if isinstance(value, list) else None
    return True
