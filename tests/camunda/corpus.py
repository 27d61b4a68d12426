"""Drive a folder of Camunda models through an engine: deploy, start, then serve every step until each ends.

Human tasks are completed with values their form asks for (defaults, else a value of the field's type), external
tasks are completed by a worker with no variables, due timers are fired by moving the manual clock on. A model
that stops (an error, or a wait nothing here can serve, e.g. a message) counts as started, not completed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from engine.errors import ClientflowError

SAMPLE = {"string": "x", "integer": 1, "number": 1, "boolean": True}


@dataclass
class CorpusResult:
    files: int = 0
    deployed_strict: list[str] = field(default_factory=list)
    deployed: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    stopped: dict[str, str] = field(default_factory=dict)


def form_data(form: dict | None) -> dict:
    schema = (form or {}).get("schema") or {}
    data = {}
    for name, prop in (schema.get("properties") or {}).items():
        if "default" in prop:
            data[name] = prop["default"]
        elif "enum" in prop:
            data[name] = prop["enum"][0]
        elif prop.get("format") == "date":
            data[name] = "2026-01-05"
        else:
            value = SAMPLE.get(prop.get("type"), "x")
            data[name] = max(value, prop.get("minimum", value)) if prop.get("type") == "integer" else value
    return data


def drive(engine, clock, instance_id: int, steps: int = 40) -> str:
    """Serve the instance until it ends; its final status (or `waiting: ...`)."""
    for _ in range(steps):
        view = engine.instance(instance_id)
        if view.status != "running":
            return view.status if view.status != "error" else f"error: {view.error}"
        humans = engine.tasks(instance_id=instance_id)
        if humans:
            engine.complete(humans[0].id, form_data(humans[0].form), by=None)
            continue
        due = engine.camunda.due_continuations()
        if due:  # what the worker's jobs do for camunda:asyncBefore/asyncAfter
            for task_id in due:
                engine.camunda.continue_async(task_id)
            continue
        external = [t for t in engine.camunda.external_tasks() if t["instance_id"] == instance_id]
        if external:
            [locked] = [t for t in engine.camunda.fetch_and_lock(
                "corpus", 1, [{"topicName": external[0]["topic"], "lockDuration": 60000}])
                if t.instance_id == instance_id] or [None]
            if locked is not None:
                engine.camunda.complete(locked.id, "corpus", {})
                continue
        if engine.pending_timers():
            clock.advance(timedelta(days=400))
            if engine.fire_due_timers():
                continue
        return "waiting: nothing here can serve it"
    return "waiting: step budget spent"


def run(engine, clock, folder: Path) -> CorpusResult:
    result = CorpusResult()
    for path in sorted(folder.glob("*.bpmn")):
        result.files += 1
        key = "c" + str(result.files).zfill(3)
        files = {path.name: path.read_text(encoding="utf-8")}
        try:
            engine.deploy_files(files, key + "_strict", None)
            result.deployed_strict.append(path.name)
        except ClientflowError:
            pass
        try:
            engine.deploy_files(files, key, None, allow_ignored=True)
        except ClientflowError as err:
            result.refused[path.name] = str(err)[:300]
            continue
        result.deployed.append(path.name)
        try:
            instance = engine.start(key, {}, by=None)
        except ClientflowError as err:
            result.stopped[path.name] = f"start: {err}"[:300]
            continue
        if instance.status == "error":
            result.stopped[path.name] = f"start: {instance.error}"[:300]
            continue
        result.started.append(path.name)
        outcome = drive(engine, clock, instance.id)
        if outcome == "completed":
            result.completed.append(path.name)
        else:
            result.stopped[path.name] = outcome[:300]
    return result
