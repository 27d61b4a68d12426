"""`/engine-rest` through the Flask test client: auth, typed variables, fetch-and-lock, complete, failure, BPMN
error, locks, start by key with a business key, messages (start and intermediate), tasks, deployment create."""

import base64
import time

import pytest

from tests.support import bearer_headers


@pytest.fixture
def rest(client, engine, make_user):
    make_user("ops", "Reviewer", "Warehouse")
    headers = bearer_headers(engine, "ops")

    def call(method, path, json=None, **kwargs):
        return client.open(f"/engine-rest{path}", method=method, json=json, headers=headers, **kwargs)
    call.headers = headers
    return call


def deploy(rest, models, name):
    with open(models / name, "rb") as handle:
        response = rest("POST", "/deployment/create", data={"deployment-name": "t", "data": (handle, name)},
                        content_type="multipart/form-data")
    assert response.status_code == 200, response.text
    return response.json


def fetch(rest, topic="credit-score", worker="w1", **extra):
    response = rest("POST", "/external-task/fetchAndLock", {"workerId": worker, "maxTasks": 5, **extra,
                                                              "topics": [{"topicName": topic, "lockDuration": 10000}]})
    assert response.status_code == 200, response.text
    return response.json


def test_a_token_is_needed_and_basic_auth_carries_it(client, rest):
    assert client.post("/engine-rest/external-task/fetchAndLock", json={}).status_code == 401
    token = rest.headers["Authorization"].split()[1]
    basic = base64.b64encode(f"worker:{token}".encode()).decode()
    response = client.post("/engine-rest/external-task/fetchAndLock", headers={"Authorization": f"Basic {basic}"},
                           json={"workerId": "w", "topics": [{"topicName": "x", "lockDuration": 1000}]})
    assert (response.status_code, response.json) == (200, [])


def test_worker_round_trip_with_typed_variables(rest, camunda_models, engine):
    deployed = deploy(rest, camunda_models, "loan.bpmn")
    assert "loan:1" in deployed["deployedProcessDefinitions"]
    started = rest("POST", "/process-definition/key/loan/start", {
        "businessKey": "B-42", "variables": {"applicant": {"value": "Ann", "type": "String"},
                                             "profile": {"value": '{"age": 41}', "type": "Json"}}})
    assert started.status_code == 200 and started.json["businessKey"] == "B-42"
    [task] = fetch(rest)
    assert task["businessKey"] == "B-42" and task["activityId"] == "score"
    assert task["variables"]["applicant"] == {"type": "String", "value": "Ann", "valueInfo": {}}
    assert task["variables"]["profile"]["type"] == "Json"
    assert fetch(rest, worker="w2") == []
    assert rest("POST", f"/external-task/{task['id']}/extendLock", {"workerId": "w1", "newDuration": 5000}
                ).status_code == 204
    wrong = rest("POST", f"/external-task/{task['id']}/complete", {"workerId": "w2"})
    assert wrong.status_code >= 400 and wrong.json["type"] == "TaskNotReady"
    done = rest("POST", f"/external-task/{task['id']}/complete",
                {"workerId": "w1", "variables": {"score": {"value": 720, "type": "Integer"}}})
    assert done.status_code == 204
    [human] = rest("GET", f"/task?processInstanceId={started.json['id']}").json
    assert human["taskDefinitionKey"] == "approve"
    assert rest("POST", f"/task/{human['id']}/claim", {"userId": "ops"}).status_code == 204
    assert rest("POST", f"/task/{human['id']}/complete", {"variables": {
        "approved": {"value": True, "type": "Boolean"}, "amount": {"value": 900, "type": "Long"},
        "channel": {"value": "web", "type": "String"}}}).status_code == 204
    assert engine.instance(int(started.json["id"])).status == "running"  # notify waits for its worker
    [notify] = fetch(rest, topic="org.example.NotifyDelegate")
    assert rest("POST", f"/external-task/{notify['id']}/complete", {"workerId": "w1"}).status_code == 204
    assert engine.instance(int(started.json["id"])).status == "completed"


def test_failure_unlock_and_bpmn_error(rest, camunda_models, engine):
    deploy(rest, camunda_models, "loan.bpmn")
    started = rest("POST", "/process-definition/key/loan/start", {"variables": {}}).json
    [task] = fetch(rest)
    assert rest("POST", f"/external-task/{task['id']}/failure", {
        "workerId": "w1", "errorMessage": "timeout", "retries": 1, "retryTimeout": 60000}).status_code == 204
    assert fetch(rest) == []  # not before the retry timeout
    assert rest("POST", f"/external-task/{task['id']}/unlock").status_code == 204
    [again] = fetch(rest)
    assert again["retries"] == 1 and again["errorMessage"] == "timeout"
    assert rest("POST", f"/external-task/{again['id']}/bpmnError",
                {"workerId": "w1", "errorCode": "REJECTED"}).status_code == 204
    assert engine.instance(int(started["id"])).status == "completed"


def test_long_polling_waits_then_returns_empty(rest):
    began = time.monotonic()
    assert fetch(rest, topic="nothing", asyncResponseTimeout=600) == []
    assert 0.5 <= time.monotonic() - began < 5


def test_bad_input_is_a_camunda_error(rest):
    response = rest("POST", "/external-task/fetchAndLock", {"workerId": "w", "topics": []})
    assert response.status_code == 400 and response.json["type"] == "InvalidRequestException"
    bad = rest("POST", "/process-definition/key/loan/start", {"variables": {"x": {"value": "a", "type": "Integer"}}})
    assert bad.status_code == 400 and "x" in bad.json["message"]


def test_message_starts_a_process_then_reaches_it(rest, camunda_models, engine):
    deploy(rest, camunda_models, "order_message.bpmn")
    engine.camunda.handlers.register("reserveStock", lambda variables: {"reserved": variables["qty"]})
    response = rest("POST", "/message", {"messageName": "OrderPlaced", "businessKey": "ORD-7", "resultEnabled": True,
                                         "processVariables": {"qty": {"value": 3, "type": "Integer"}}})
    assert response.status_code == 200, response.text
    instance_id = int(response.json[0]["processInstance"]["id"])
    assert rest("POST", "/message", {"messageName": "PaymentReceived", "businessKey": "ORD-7"}).status_code == 204
    [ship] = rest("GET", f"/task?processInstanceId={instance_id}").json
    assert ship["candidateGroup"] == "Warehouse"
    assert engine.instance_detail(instance_id).data["reserved"] == 3
    missing = rest("POST", "/message", {"messageName": "PaymentReceived", "businessKey": "nope"})
    assert missing.status_code == 404 or missing.status_code == 409 or missing.status_code == 400


def test_topics_narrow_by_process_key_and_refuse_filters_they_cannot_apply(rest, camunda_models):
    deploy(rest, camunda_models, "loan.bpmn")
    rest("POST", "/process-definition/key/loan/start", {"variables": {}})
    other = rest("POST", "/external-task/fetchAndLock", {"workerId": "w", "topics": [
        {"topicName": "credit-score", "lockDuration": 1000, "processDefinitionKeyIn": ["other"]}]})
    assert (other.status_code, other.json) == (200, [])
    refused = rest("POST", "/external-task/fetchAndLock", {"workerId": "w", "topics": [
        {"topicName": "credit-score", "lockDuration": 1000, "processVariables": {"tier": "gold"}}]})
    assert refused.status_code == 400 and "processVariables" in refused.json["message"]
    defaults = rest("POST", "/external-task/fetchAndLock", {"workerId": "w", "topics": [
        {"topicName": "credit-score", "lockDuration": 1000, "processVariables": {}, "processDefinitionKey": "loan"}]})
    assert [t["processDefinitionKey"] for t in defaults.json] == ["loan"]


def test_lock_by_id_is_refused_while_another_worker_holds_it(rest, camunda_models):
    deploy(rest, camunda_models, "loan.bpmn")
    rest("POST", "/process-definition/key/loan/start", {"variables": {}})
    [task] = rest("GET", "/external-task").json
    assert rest("POST", f"/external-task/{task['id']}/lock", {"workerId": "w1", "lockDuration": 5000}
                ).status_code == 204
    taken = rest("POST", f"/external-task/{task['id']}/lock", {"workerId": "w2", "lockDuration": 5000})
    assert taken.status_code >= 400 and "w1" in taken.json["message"]
    assert fetch(rest, worker="w2") == []
    assert rest("POST", f"/external-task/{task['id']}/complete", {"workerId": "w1"}).status_code == 204
