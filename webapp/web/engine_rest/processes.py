"""`/engine-rest`: start by key, message correlation, user tasks (list, claim, complete), deployment create.

Answers carry every field Camunda's own answers have (null where this engine has no such thing, e.g. case
instances and tenants), because clients such as pycamunda read each of them.
"""

from __future__ import annotations

from engine.errors import InvalidInput
from flask import jsonify, request

from webapp.extensions import get_engine
from webapp.web.engine_rest.blueprint import actor, body, bp
from webapp.web.engine_rest.variables import camunda_date, from_camunda


def _instance(view, business_key: str | None = None) -> dict:
    return {"id": str(view.id), "definitionId": f"{view.key}:{view.version}", "businessKey": business_key,
            "caseInstanceId": None, "ended": view.status in ("completed", "cancelled"), "suspended": False,
            "tenantId": None, "links": []}


@bp.get("/engine")
def engines():
    return jsonify([{"name": "default"}])


@bp.get("/version")
def version():
    return jsonify({"version": "7.22.0-clientflow"})


@bp.post("/process-definition/key/<key>/start")
def start(key: str):
    data = body()
    business_key = data.get("businessKey")
    if business_key is not None and not isinstance(business_key, str):
        raise InvalidInput("`businessKey` must be text")
    variables = from_camunda(data.get("variables"))
    if business_key:
        variables["businessKey"] = business_key
    return jsonify(_instance(get_engine().start(key, variables, by=actor()), business_key))


@bp.post("/message")
def message():
    data = body()
    name, business_key = data.get("messageName"), data.get("businessKey")
    if not isinstance(name, str) or not name:
        raise InvalidInput("`messageName` is required")
    if business_key is not None and not isinstance(business_key, str):
        raise InvalidInput("`businessKey` must be text")
    if data.get("all"):
        raise InvalidInput("`all: true` is not supported: a message reaches one instance (or starts one)")
    variables = from_camunda(data.get("processVariables"))
    engine = get_engine()
    view, started = engine.camunda.correlate(name, variables, business_key, engine.user(actor()))
    if not data.get("resultEnabled"):
        return "", 204
    if started:
        return jsonify([{"resultType": "ProcessDefinition", "processInstance": _instance(view, business_key)}])
    execution = {"id": str(view.id), "processInstanceId": str(view.id), "ended": view.status in (
        "completed", "cancelled"), "tenantId": None}
    return jsonify([{"resultType": "Execution", "execution": execution}])


def _task(view) -> dict:
    return {"id": view.id, "name": view.name, "assignee": view.claimed_by, "owner": None,
            "created": camunda_date(view.created_at), "due": camunda_date(view.due_at), "followUp": None,
            "lastUpdated": None, "delegationState": None, "description": None,
            "executionId": str(view.instance_id), "parentTaskId": None, "priority": 50,
            "processDefinitionId": view.process_key, "processInstanceId": str(view.instance_id),
            "caseDefinitionId": None, "caseInstanceId": None, "caseExecutionId": None,
            "taskDefinitionKey": view.element_id, "suspended": False, "formKey": None, "camundaFormRef": None,
            "tenantId": None, "candidateGroup": view.lane}


@bp.get("/task")
def tasks():
    instance = request.args.get("processInstanceId")
    if instance is not None and not instance.isdigit():
        raise InvalidInput("processInstanceId must be an instance id")
    views = get_engine().tasks(instance_id=int(instance) if instance else None, user=actor())
    return jsonify([_task(v) for v in views])


@bp.post("/task/<task_id>/claim")
def claim(task_id: str):
    user = body().get("userId")
    if user is not None and user != actor():
        raise InvalidInput(f"this API token claims for {actor()!r} only, not for {user!r}")
    get_engine().claim(task_id, actor())
    return "", 204


@bp.post("/task/<task_id>/complete")
def complete_task(task_id: str):
    get_engine().complete(task_id, from_camunda(body().get("variables")), by=actor())
    return "", 204


@bp.post("/deployment/create")
def deploy():
    files = {f.filename: f.read().decode("utf-8") for f in request.files.values() if f.filename}
    if not any(name.endswith(".bpmn") for name in files):
        raise InvalidInput("send the .bpmn file(s) as multipart form data")
    engine = get_engine()
    allow = request.form.get("allow-ignored") == "true"
    results = []
    for name in sorted(n for n in files if n.endswith(".bpmn")):
        bundle = {n: t for n, t in files.items() if n == name or not n.endswith(".bpmn")}
        key = name.rsplit("/", 1)[-1][:-5].lower().replace(".", "_").replace(" ", "_")
        results.append(engine.deploy_files(bundle, key, actor(), allow_ignored=allow))
    return jsonify({"id": ",".join(f"{r.key}:{r.version}" for r in results),
                    "name": request.form.get("deployment-name"),
                    "deployedProcessDefinitions": {f"{r.key}:{r.version}": {
                        "id": f"{r.key}:{r.version}", "key": r.key, "version": r.version,
                        "compat": r.compat} for r in results}})
