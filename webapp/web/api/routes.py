"""The API's endpoints: each parses its input, calls the engine facade and returns JSON."""

from __future__ import annotations

import re
from typing import Any

from engine.errors import InstanceNotFound, InvalidInput, NotAllowed, ProcessNotFound, TaskNotFound
from flask import g, jsonify, request, url_for

from webapp.extensions import get_engine
from webapp.web.access import log_access, redacted, search_instances, token_process_keys
from webapp.web.api.blueprint import bp
from webapp.web.api.openapi import document
from webapp.web.auth import INSTANCE_MANAGERS, check_role, require_scope
from webapp.web.views.inbox import due_filter

TASK_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PROCESS_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,120}$")
STATUSES = ("running", "error", "completed", "cancelled")


# -- input ----------------------------------------------------------------------------------------------------

def body() -> dict[str, Any]:
    """The request's JSON object (an empty body is an empty object)."""
    if not request.get_data(cache=True):
        return {}
    value = request.get_json(silent=True)
    if not isinstance(value, dict):
        raise InvalidInput("the request body must be a JSON object")
    if _has_nul(value):
        raise InvalidInput("text in the request body must not contain NUL characters")
    return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def object_field(data: dict[str, Any], name: str, required: bool = False) -> dict[str, Any]:
    value = data.get(name)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"`{name}` must be a JSON object")
    return value


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"-?\d{1,9}", raw) or not low <= int(raw) <= high:
        raise InvalidInput(f"`{name}` must be a whole number from {low} to {high}")
    return int(raw)


def bool_arg(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false"):
        raise InvalidInput(f"`{name}` must be true or false")
    return raw.lower() == "true"


def choice_arg(name: str, choices: tuple[str, ...]) -> str | None:
    raw = request.args.get(name)
    if raw is not None and raw not in choices:
        raise InvalidInput(f"`{name}` must be one of: {', '.join(choices)}")
    return raw


def checked_task_id(value: str) -> str:
    if not TASK_ID.match(value):
        raise TaskNotFound(f"no open task with id {value}")
    return value


def process_key(value: str | None) -> str | None:
    if value is not None and not PROCESS_KEY.match(value):
        raise ProcessNotFound(f"no process with key {value!r}")
    return value


def in_token_scope(instance_id: int) -> None:
    """An instance of a process the token is not for is answered as if it did not exist."""
    keys = token_process_keys()
    if keys is not None and get_engine().instance(instance_id).key not in keys:
        raise InstanceNotFound(f"no instance with id {instance_id}")


def task_in_scope(task_id: str) -> str:
    """The task id; a task of a process the token is not for is answered as if it did not exist."""
    keys = token_process_keys()
    if keys is not None and get_engine().task(checked_task_id(task_id)).process_key not in keys:
        raise TaskNotFound(f"no open task with id {task_id}")
    return checked_task_id(task_id)


def page() -> dict[str, int]:
    return {"limit": int_arg("limit", 50, 1, 200), "offset": int_arg("offset", 0, 0, 10_000_000)}


# -- endpoints ------------------------------------------------------------------------------------------------

@bp.get("/openapi.json")
def openapi():
    return jsonify(document(request.host_url.rstrip("/") + bp.url_prefix))


@bp.get("/me")
def me():
    return jsonify(g.api_user.as_dict())


@bp.get("/processes")
def processes():
    return jsonify({"processes": [p.as_dict() for p in get_engine().processes()]})


@bp.post("/processes/<key>/instances")
def start(key: str):
    data = object_field(body(), "data")
    require_scope("start", process_key(key))
    instance = get_engine().start(key, data, by=g.api_user.username)
    location = url_for("api.instance", instance_id=instance.id)
    return jsonify(instance.as_dict()), 201, {"Location": location}


@bp.get("/instances")
def instances():
    rows = search_instances(key=process_key(request.args.get("process")), status=choice_arg("status", STATUSES),
                            text=(request.args.get("q") or "").strip() or None, **page())
    return jsonify({"instances": [i.as_dict() for i in rows]})


@bp.get("/instances/<int(max=2147483647):instance_id>")
def instance(instance_id: int):
    in_token_scope(instance_id)
    log_access("instance", instance_id=instance_id)
    return jsonify(redacted(get_engine().instance_detail(instance_id)).as_dict())


@bp.post("/instances/<int(max=2147483647):instance_id>/cancel")
def cancel(instance_id: int):
    check_role(g.api_user, INSTANCE_MANAGERS)
    in_token_scope(instance_id)
    reason = body().get("reason", "")
    if not isinstance(reason, str):
        raise InvalidInput("`reason` must be a string")
    return jsonify(get_engine().cancel(instance_id, by=g.api_user.username, reason=reason).as_dict())


@bp.post("/instances/<int(max=2147483647):instance_id>/retry")
def retry(instance_id: int):
    check_role(g.api_user, INSTANCE_MANAGERS)
    in_token_scope(instance_id)
    data = object_field(body(), "data")
    return jsonify(get_engine().retry(instance_id, data, by=g.api_user.username).as_dict())


@bp.get("/tasks")
def tasks():
    rows = get_engine().tasks(user=g.api_user.username, mine=bool_arg("mine"),
                              process_key=process_key(request.args.get("process")),
                              **due_filter(choice_arg("due", ("overdue", "soon"))), **page())
    keys = token_process_keys()
    return jsonify({"tasks": [t.as_dict() for t in rows if keys is None or t.process_key in keys]})


@bp.get("/tasks/<task_id>")
def task(task_id: str):
    found = get_engine().task(task_in_scope(task_id))
    if not g.api_user.may_work_in(found.lane):
        raise NotAllowed(f"{g.api_user.username} does not have the role {found.lane!r} this task needs")
    log_access("task", task=found)
    return jsonify(found.as_dict())


@bp.post("/tasks/<task_id>/claim")
def claim(task_id: str):
    return jsonify(get_engine().claim(task_in_scope(task_id), by=g.api_user.username).as_dict())


@bp.post("/tasks/<task_id>/unclaim")
def unclaim(task_id: str):
    return jsonify(get_engine().unclaim(task_in_scope(task_id), by=g.api_user.username).as_dict())


@bp.post("/tasks/<task_id>/assign")
def assign(task_id: str):
    payload = body()
    if "user" not in payload:
        raise InvalidInput("`user` is required: a user name, or null to release the task")
    user = payload["user"]
    if user is not None and (not isinstance(user, str) or not user.strip()):
        raise InvalidInput("`user` must be a user name or null")
    task = get_engine().assign(checked_task_id(task_id), user.strip() if user else None, by=g.api_user.username)
    return jsonify(task.as_dict())


@bp.post("/tasks/<task_id>/complete")
def complete(task_id: str):
    payload = body()
    version = payload.get("expected_version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise InvalidInput("`expected_version` must be an integer")
    instance = get_engine().complete(task_in_scope(task_id), object_field(payload, "data"), by=g.api_user.username,
                                     expected_version=version)
    return jsonify(instance.as_dict())


@bp.post("/messages")
def message():
    payload = body()
    name = payload.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("`name` (the BPMN message name) is required")
    if token_process_keys() is not None:
        raise NotAllowed("a token limited to some processes cannot send messages (a message may reach any process)")
    instance = get_engine().send_message(name, object_field(payload, "correlation", required=True),
                                         object_field(payload, "payload"), by=g.api_user.username)
    return jsonify(instance.as_dict())
