"""The JSON API: token auth, every endpoint, role refusals and conflicts as JSON."""

from pathlib import Path

import pytest

REPLY_MODEL = Path(__file__).parent / "fixtures" / "reply"


@pytest.fixture
def api(client, token_for):
    """Call the API as a user: api("alice").get("/tasks")."""

    class As:
        def __init__(self, username: str):
            self.headers = token_for(username)

        def get(self, path: str, **kwargs):
            return client.get(f"/api/v1{path}", headers=self.headers, **kwargs)

        def post(self, path: str, json=None, **kwargs):
            return client.post(f"/api/v1{path}", headers=self.headers, json=json, **kwargs)
    return As


def test_a_token_is_needed(client, staff):
    for headers in ({}, {"Authorization": "Bearer cf_nope"}, {"Authorization": "Basic YWxpY2U6eA=="}):
        response = client.get("/api/v1/processes", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json["error"]["status"] == 401
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_a_session_cookie_is_not_enough(signed_in):
    assert signed_in("alice").get("/api/v1/processes").status_code == 401


def test_processes_start_instances_and_detail(api, order):
    alice = api("alice")
    assert [p["key"] for p in alice.get("/processes").json["processes"]] == ["order"]
    response = alice.post("/processes/order/instances", json={"data": {"customer_name": "ACME"}})
    assert response.status_code == 201
    started = response.json
    assert started["status"] == "running" and started["label"] == "ACME" and started["started_by"] == "alice"
    assert response.headers["Location"] == f"/api/v1/instances/{started['id']}"
    assert alice.get("/instances?q=acme").json["instances"][0]["id"] == started["id"]
    assert alice.get("/instances?status=completed").json["instances"] == []
    detail = alice.get(f"/instances/{started['id']}").json
    assert detail["tasks"][0]["element_id"] == "capture" and detail["data"]["customer_name"] == "ACME"
    assert detail["events"][0]["kind"] == "instance_started"
    assert alice.post("/processes/nope/instances").status_code == 404
    assert alice.post("/processes/order/instances", json={"data": [1]}).status_code == 400
    assert alice.post("/processes/order/instances", data="{", content_type="application/json").status_code == 400
    assert alice.get("/instances?limit=0").status_code == 400
    assert alice.get("/instances?status=lost").status_code == 400
    assert alice.get("/instances/424242").status_code == 404


def test_tasks_claim_unclaim_complete(api, engine, order):
    alice, carol = api("alice"), api("carol")
    instance = engine.start("order", by="alice")
    [task] = alice.get("/tasks?mine=false").json["tasks"]
    assert carol.get("/tasks").json["tasks"] == []
    assert carol.get(f"/tasks/{task['id']}").status_code == 403
    assert carol.post(f"/tasks/{task['id']}/claim").status_code == 403
    claimed = alice.post(f"/tasks/{task['id']}/claim").json
    assert claimed["claimed_by"] == "alice"
    assert [t["id"] for t in alice.get("/tasks?mine=true").json["tasks"]] == [task["id"]]
    assert alice.post(f"/tasks/{task['id']}/unclaim").json["claimed_by"] is None
    assert alice.post(f"/tasks/{task['id']}/unclaim").status_code == 409
    version = engine.instance(instance.id).lock_version
    done = alice.post(f"/tasks/{task['id']}/complete", json={"data": {"amount": 10}, "expected_version": version})
    assert done.status_code == 200 and done.json["lock_version"] > version
    again = alice.post(f"/tasks/{task['id']}/complete", json={"data": {"amount": 10}})
    assert again.status_code == 409 and "already completed" in again.json["error"]["message"]
    assert alice.get("/tasks/not-a-uuid").status_code == 404
    assert alice.get("/tasks?mine=maybe").status_code == 400
    assert alice.get("/tasks?due=overdue").json["tasks"] == []


def test_a_stale_expected_version_is_409_and_changes_nothing(api, engine, order):
    instance = engine.start("order", by="alice")
    [task] = engine.tasks(instance_id=instance.id)
    engine.claim(task.id, "alice")
    response = api("alice").post(f"/tasks/{task.id}/complete", json={
        "data": {"amount": 10}, "expected_version": instance.lock_version})
    assert response.status_code == 409 and response.json["error"]["title"] == "Conflict"
    assert engine.task(task.id).id == task.id
    bad = api("alice").post(f"/tasks/{task.id}/complete", json={"expected_version": "1"})
    assert bad.status_code == 400


def test_separation_of_duties_is_403(api, engine, order):
    instance = engine.start("order", by="bob")
    engine.complete(engine.tasks(instance_id=instance.id)[0].id, {"amount": 5000}, by="bob")
    [review] = engine.tasks(instance_id=instance.id)
    response = api("bob").post(f"/tasks/{review.id}/complete", json={"data": {}})
    assert response.status_code == 403 and "separation of duties" in response.json["error"]["message"]


def test_cancel_and_retry_need_a_manager_role(api, engine, order):
    instance = engine.start("order", by="alice")
    engine.complete(engine.tasks(instance_id=instance.id)[0].id, {}, by="alice")  # the script fails: no amount
    assert api("alice").post(f"/instances/{instance.id}/retry", json={"data": {"amount": 5}}).status_code == 403
    retried = api("sam").post(f"/instances/{instance.id}/retry", json={"data": {"amount": 5}})
    assert retried.status_code == 200 and retried.json["status"] == "running"
    assert api("alice").post(f"/instances/{instance.id}/cancel", json={"reason": "x"}).status_code == 403
    cancelled = api("sam").post(f"/instances/{instance.id}/cancel", json={"reason": "duplicate"})
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert api("sam").post(f"/instances/{instance.id}/cancel").status_code == 409


def test_messages_are_correlated_by_reference(api, engine, staff):
    engine.deploy(REPLY_MODEL)
    waiting = engine.start("reply", {"client_name": "Zed"}, by="alice")
    other = engine.start("reply", by="alice")
    alice = api("alice")
    response = alice.post("/messages", json={"name": "client_reply", "correlation": {"reference": waiting.reference},
                                             "payload": {"text": "Here is the VAT number"}})
    assert response.status_code == 200 and response.json["id"] == waiting.id
    assert [t.element_id for t in engine.tasks(instance_id=waiting.id)] == ["read_reply"]
    assert engine.tasks(instance_id=other.id) == []
    again = alice.post("/messages", json={"name": "client_reply", "correlation": {"reference": waiting.reference}})
    assert again.status_code == 404
    assert alice.post("/messages", json={"correlation": {}}).status_code == 400
    assert alice.post("/messages", json={"name": "client_reply", "correlation": "x"}).status_code == 400


def test_nul_characters_are_refused_not_crashed_on(api, order):
    alice = api("alice")
    assert alice.get("/instances?q=%00").status_code == 400
    assert alice.post("/processes/order/instances", json={"data": {"a": "\x00"}}).status_code == 400
