"""`/engine-rest/external-task`: fetch-and-lock (with bounded long polling), complete, failure, BPMN error, locks."""

from __future__ import annotations

import time

from engine.errors import InvalidInput
from flask import jsonify

from webapp.extensions import get_engine
from webapp.web.engine_rest.blueprint import body, bp
from webapp.web.engine_rest.variables import camunda_date, from_camunda, to_camunda

MAX_POLL_SECONDS = 30.0
POLL_INTERVAL = 0.2
# Topic filters a worker may send that this engine cannot apply: refused rather than ignored, so a worker never
# takes tasks it did not ask for. (Empty values, which clients send by default, are fine.)
UNSUPPORTED_FILTERS = ("businessKey", "processVariables", "processDefinitionId", "processDefinitionIdIn",
                       "processDefinitionVersionTag", "tenantIdIn")


def _text(data: dict, name: str, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"`{name}` is required and must be text")
    return value


def _topics(data: dict) -> list[dict]:
    topics = data.get("topics")
    if not isinstance(topics, list) or not topics:
        raise InvalidInput("`topics` must be a non-empty list of {topicName, lockDuration, variables}")
    for topic in topics:
        if not isinstance(topic, dict) or not isinstance(topic.get("topicName"), str):
            raise InvalidInput("every topic needs a `topicName`")
        names = topic.get("variables")
        if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
            raise InvalidInput("a topic's `variables` must be a list of names")
        keys = topic.get("processDefinitionKeyIn")
        if keys is not None and (not isinstance(keys, list) or not all(isinstance(k, str) for k in keys)):
            raise InvalidInput("a topic's `processDefinitionKeyIn` must be a list of process keys")
        unsupported = sorted(name for name in UNSUPPORTED_FILTERS if topic.get(name))
        if unsupported:
            raise InvalidInput(f"topic {topic['topicName']!r}: the filter(s) {', '.join(unsupported)} are not "
                               "supported here; filter by topic and processDefinitionKey(In)")
    return topics


def _locked(task) -> dict:
    return {"id": task.id, "topicName": task.topic, "workerId": task.worker_id,
            "lockExpirationTime": camunda_date(task.lock_expires_at),
            "processInstanceId": str(task.instance_id), "executionId": str(task.instance_id),
            "activityId": task.element_id, "activityInstanceId": f"{task.element_id}:{task.id}",
            "processDefinitionId": f"{task.process_key}:{task.definition_id}",
            "processDefinitionKey": task.process_key, "processDefinitionVersionTag": None,
            "businessKey": task.variables.get("businessKey") or task.business_key, "retries": task.retries,
            "errorMessage": task.error_message, "errorDetails": task.error_details, "priority": task.priority,
            "suspended": False, "tenantId": None, "extensionProperties": {},
            "variables": to_camunda(task.variables)}


@bp.post("/external-task/fetchAndLock")
def fetch_and_lock():
    data = body()
    worker, topics = _text(data, "workerId"), _topics(data)
    max_tasks = data.get("maxTasks", 10)
    wait = data.get("asyncResponseTimeout") or 0
    if not isinstance(max_tasks, int) or not 1 <= max_tasks <= 100:
        raise InvalidInput("`maxTasks` must be a whole number from 1 to 100")
    if not isinstance(wait, int | float) or wait < 0:
        raise InvalidInput("`asyncResponseTimeout` must be milliseconds, 0 or more")
    camunda = get_engine().camunda
    until = time.monotonic() + min(wait / 1000, MAX_POLL_SECONDS)
    while True:
        locked = camunda.fetch_and_lock(worker, max_tasks, topics)
        if locked or time.monotonic() >= until:
            return jsonify([_locked(t) for t in locked])
        time.sleep(POLL_INTERVAL)


@bp.post("/external-task/<task_id>/complete")
def complete(task_id: str):
    data = body()
    variables = {**from_camunda(data.get("variables")), **from_camunda(data.get("localVariables"))}
    get_engine().camunda.complete(task_id, _text(data, "workerId"), variables)
    return "", 204


@bp.post("/external-task/<task_id>/failure")
def failure(task_id: str):
    data = body()
    get_engine().camunda.failure(task_id, _text(data, "workerId"), data.get("errorMessage") or "",
                                 data.get("errorDetails"), data.get("retries", 0), data.get("retryTimeout"))
    return "", 204


@bp.post("/external-task/<task_id>/bpmnError")
def bpmn_error(task_id: str):
    data = body()
    get_engine().camunda.bpmn_error(task_id, _text(data, "workerId"), _text(data, "errorCode"),
                                    data.get("errorMessage"), from_camunda(data.get("variables")))
    return "", 204


@bp.post("/external-task/<task_id>/extendLock")
def extend_lock(task_id: str):
    data = body()
    get_engine().camunda.extend_lock(task_id, _text(data, "workerId"), data.get("newDuration"))
    return "", 204


@bp.post("/external-task/<task_id>/lock")
def lock(task_id: str):
    data = body()
    get_engine().camunda.lock(task_id, _text(data, "workerId"), data.get("lockDuration"))
    return "", 204


@bp.post("/external-task/<task_id>/unlock")
def unlock(task_id: str):
    get_engine().camunda.unlock(task_id)
    return "", 204


@bp.get("/external-task")
def list_external_tasks():
    rows = get_engine().camunda.external_tasks()
    return jsonify([{"id": r["id"], "topicName": r["topic"], "workerId": r["worker_id"],
                     "processInstanceId": str(r["instance_id"]), "activityId": r["element_id"],
                     "retries": r["retries"], "errorMessage": r["error_message"]} for r in rows])
