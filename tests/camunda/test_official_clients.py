"""Camunda's own clients, unchanged, against a live clientflow server: the Node external-task client
(camunda-external-task-client-js, npm), the Python one (camunda-external-task-client-python3, PyPI) and pycamunda
(start by key, messages, user tasks). Only their base URL and credentials (an API token as the Basic-auth password)
point them here."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pycamunda.message
import pycamunda.processdef
import pycamunda.task
import pytest
import requests
from camunda.external_task.external_task_worker import ExternalTaskWorker, NoExternalTaskFound

from tests.support import bearer_headers

ROOT = Path(__file__).resolve().parents[2]
NODE_WORKER = Path(__file__).parent / "workers" / "loan_worker.mjs"


@pytest.fixture
def server(live_server, engine, make_user, camunda_models):
    """The live server's `/engine-rest` URL and an API token of a Reviewer/Warehouse user; the loan and order models
    deployed."""
    make_user("ops", "Reviewer", "Warehouse")
    engine.deploy(camunda_models / "loan.bpmn", key="loan")
    engine.deploy(camunda_models / "order_message.bpmn", key="order")
    token = bearer_headers(engine, "ops")["Authorization"].split()[1]
    return f"{live_server}/engine-rest", token


def start_loans(engine, modes):
    age = {"age": 41}
    return {mode: engine.start("loan", {"applicant": "Ann", "mode": mode, "profile": age, "businessKey": f"B-{mode}"},
                               by=None).id for mode in modes}


def assert_outcomes(engine, started, checked_by):
    completed = engine.instance_detail(started["complete"])
    assert completed.instance.status == "completed"  # score 441 < 600: the declined end
    assert completed.data["score"] == 441 and completed.data["checkedBy"] == checked_by
    assert completed.data["report"] == {"bureau": "acme", "flags": []}
    rejected = engine.instance_detail(started["reject"])
    assert rejected.instance.status == "completed" and rejected.data["reason"] == "blacklist"
    failed = engine.instance(started["fail"])
    assert failed.status == "error" and "bureau unreachable" in failed.error and "score" in failed.error


def test_the_node_client_completes_throws_and_fails(server, engine):
    node = shutil.which("node")
    if not node or not (ROOT / "node_modules" / "camunda-external-task-client-js").is_dir():
        pytest.fail("node and the npm devDependency camunda-external-task-client-js are needed: run `make install`")
    url, token = server
    started = start_loans(engine, ["complete", "reject", "fail"])
    run = subprocess.run([node, str(NODE_WORKER)], cwd=ROOT, capture_output=True, text=True, timeout=90,
                         env={**os.environ, "ENGINE_REST_URL": url, "CLIENTFLOW_TOKEN": token, "HANDLED_TASKS": "4"})
    assert run.returncode == 0, f"the Node worker exited {run.returncode}:\n{run.stdout}\n{run.stderr}"
    handled = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    actions = sorted((h["businessKey"], h["action"]) for h in handled)
    assert actions == [("B-complete", "complete"), ("B-fail", "failure retries=0"), ("B-fail", "failure retries=1"),
                       ("B-reject", "bpmnError")]
    assert_outcomes(engine, started, "node")


def python_worker_action(task):
    """What a worker written for camunda-external-task-client-python3 does with a `credit-score` task."""
    mode = task.get_variable("mode")
    if mode == "complete":
        profile = json.loads(task.get_variable("profile"))  # Camunda sends Json values serialized
        return task.complete({"score": 400 + profile["age"], "checkedBy": "python",
                              "report": {"value": json.dumps({"bureau": "acme", "flags": []}), "type": "Json"}})
    if mode == "reject":
        return task.bpmn_error("REJECTED", "on a blacklist", {"reason": "blacklist"})
    return task.failure("bureau unreachable", "ECONNREFUSED", max_retries=1, retry_timeout=0)


def test_the_python_client_completes_throws_and_fails(server, engine):
    url, token = server
    started = start_loans(engine, ["complete", "reject", "fail"])
    worker = ExternalTaskWorker("py-worker", url, {"auth_basic": {"username": "worker", "password": token},
                                                   "maxTasks": 1, "asyncResponseTimeout": 1000, "sleepSeconds": 0})
    for _round in range(8):
        try:
            worker.fetch_and_execute("credit-score", python_worker_action)
        except NoExternalTaskFound:
            break
    assert_outcomes(engine, started, "python")


def test_pycamunda_starts_correlates_and_works_user_tasks(server, engine):
    url, token = server
    auth = requests.auth.HTTPBasicAuth("ops", token)

    def send(request):
        request.auth = auth
        return request()

    engine.camunda.handlers.register("reserveStock", lambda variables: {"reserved": variables["qty"]})
    placed = pycamunda.message.CorrelateSingle(url, "OrderPlaced", business_key="ORD-9", result_enabled=True)
    placed.add_process_variable("qty", 2, "Integer")
    [started] = send(placed)
    assert started.result_type.value == "ProcessDefinition" and started.process_instance.business_key == "ORD-9"
    order_id = started.process_instance.id_
    [reached] = send(pycamunda.message.CorrelateSingle(url, "PaymentReceived", business_key="ORD-9",
                                                       result_enabled=True))
    assert reached.result_type.value == "Execution" and reached.execution.process_instance_id == order_id

    start = pycamunda.processdef.StartInstance(url, key="loan", business_key="L-1")
    start.add_variable("applicant", "Ann", "String")
    start.add_variable("mode", "complete", "String")
    start.add_variable("profile", json.dumps({"age": 300}), "Json")
    loan = send(start)
    assert loan.business_key == "L-1" and loan.definition_id.startswith("loan:")
    worker = ExternalTaskWorker("py-worker", url, {"auth_basic": {"username": "worker", "password": token},
                                                   "asyncResponseTimeout": 1000})
    worker.fetch_and_execute("credit-score", python_worker_action)  # score 700: on to the approval

    [approve] = send(pycamunda.task.GetList(url, process_instance_id=loan.id_))
    assert (approve.task_definition_key, approve.assignee, approve.created.tzinfo is not None) == (
        "approve", None, True)
    send(pycamunda.task.Claim(url, approve.id_, user_id="ops"))
    [claimed] = send(pycamunda.task.GetList(url, process_instance_id=loan.id_))
    assert claimed.assignee == "ops"
    complete = pycamunda.task.Complete(url, approve.id_)
    complete.add_variable("approved", True, "Boolean")
    complete.add_variable("amount", 2500, "Long")
    complete.add_variable("channel", "web", "String")
    send(complete)
    engine.camunda.handlers.register("org.example.NotifyDelegate", lambda variables: {"notified": True})
    notify = engine.camunda.fetch_and_lock("py", 1, [{"topicName": "org.example.NotifyDelegate",
                                                      "lockDuration": 1000}])
    engine.camunda.complete(notify[0].id, "py", {})
    assert engine.instance(int(loan.id_)).status == "completed"

    [ship] = send(pycamunda.task.GetList(url, process_instance_id=order_id))
    send(pycamunda.task.Claim(url, ship.id_, user_id="ops"))
    send(pycamunda.task.Complete(url, ship.id_))
    assert engine.instance(int(order_id)).status == "completed"
    with pytest.raises(pycamunda.NotFound):
        send(pycamunda.processdef.StartInstance(url, key="no_such_process"))
    with pytest.raises(pycamunda.Unauthorized):
        pycamunda.task.GetList(url)()
