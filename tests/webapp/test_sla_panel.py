"""The instance page's SLA panel (each clock, the SLA events) and its actions: escalate now, waiting on the
client, client replied; the same escalation through POST /api/v1/instances/{id}/escalate. Times are SAST."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from engine import ManualClock
from tests.processes.flow import PROCESSES

SAST = ZoneInfo("Africa/Johannesburg")
COMPLAINT = {"client_name": "Thandi Mokoena", "client_email": "thandi@example.com", "channel": "hotline",
             "category": "delivery", "description": "The concentrate delivery was 12 days late."}


@pytest.fixture
def clock():
    return ManualClock(datetime(2027, 2, 1, 9, 0, tzinfo=SAST))  # Monday; no public holiday that month


@pytest.fixture
def case(engine, make_user, clock):
    """A registered low-severity complaint in the agent's investigation, two business hours in."""
    make_user("agent", "Customer Care Agent", email="agent@example.com")
    make_user("clerk", "Onboarding Officer")  # staff, but not of this case's lanes
    make_user("sam", "Supervisor")
    engine.deploy_each(PROCESSES, by="process-owner")
    instance = engine.start("complaint_handling", COMPLAINT, by="agent")
    [task] = engine.tasks(instance_id=instance.id)
    engine.complete(task.id, {"severity": "low", "handler_email": "agent@example.com"}, by="agent")
    clock.advance(hours=2)
    return instance.id


def clocks(engine, instance_id):
    return {c.target: c for c in engine.sla_panel(instance_id).clocks}


def test_the_panel_shows_each_clock_with_due_time_used_and_events(engine, case, signed_in, text):
    page = text(signed_in("agent").get(f"/instances/{case}"))
    assert "SLA" in page
    # acknowledged at receipt; resolve runs on the low track (P10D) from receipt, 2 business hours used
    assert "acknowledge 1 business day · za-office met — 0 min — agent" in page
    assert "resolve 10 business days · za-office running 2027-02-15 09:00 +02:00 2 h — agent" in page
    assert "Escalate now" in page and "Waiting on client" in page and "Client replied" not in page
    assert "SLA events" in page and "applied" in page and "met" in page


def test_staff_outside_the_lanes_see_the_clocks_but_not_the_actions(engine, case, signed_in, text):
    page = text(signed_in("clerk").get(f"/instances/{case}"))
    assert "resolve 10 business days" in page and "Escalate now" not in page and "Waiting on client" not in page
    response = signed_in("clerk").post(f"/instances/{case}/sla/escalate", data={"reason": "Because."})
    assert response.status_code == 403
    assert clocks(engine, case)["resolve"].level == "agent"


def test_escalate_now_from_the_page(engine, case, signed_in, text):
    client = signed_in("agent")
    refused = client.post(f"/instances/{case}/sla/escalate", data={"reason": "  "}, follow_redirects=True)
    assert "Nothing was changed: give a reason for escalating the case." in text(refused)
    assert clocks(engine, case)["resolve"].level == "agent"
    response = client.post(f"/instances/{case}/sla/escalate", data={"reason": "The client threatens legal action."})
    assert response.status_code == 303 and response.location.endswith(f"/instances/{case}#sla-title")
    resolve = clocks(engine, case)["resolve"]
    assert (resolve.level, resolve.escalated) == ("supervisor", True)
    page = text(client.get(f"/instances/{case}"))
    assert "The case was referred to the next level." in page
    assert "escalated" in page and "referral: The client threatens legal action." in page
    assert [t.element_id for t in engine.tasks(instance_id=case)] == ["supervisor_resolve"]


def test_waiting_on_the_client_pauses_and_client_replied_resumes(engine, case, signed_in, text, clock):
    client = signed_in("agent")
    due_before = clocks(engine, case)["resolve"].due_at
    assert client.post(f"/instances/{case}/sla/hold", data={"reason": ""}, follow_redirects=True).status_code == 200
    assert clocks(engine, case)["resolve"].state == "running"
    client.post(f"/instances/{case}/sla/hold", data={"reason": "Asked for the delivery note number."})
    resolve = clocks(engine, case)["resolve"]
    assert resolve.state == "paused" and resolve.due_at is None and resolve.paused_reason == "waiting on client"
    page = text(client.get(f"/instances/{case}"))
    assert "On hold: waiting on client." in page and "Client replied" in page and "Waiting on client" not in page
    clock.advance(days=1)  # Tuesday 11:00: nine business hours on hold
    client = signed_in("agent")  # the day-old session has expired
    released = client.post(f"/instances/{case}/sla/release", data={"note": "Sent the note."}, follow_redirects=True)
    assert "The client replied: the SLA clocks run again." in text(released)
    resolve = clocks(engine, case)["resolve"]
    assert resolve.state == "running"
    assert resolve.due_at.astimezone(SAST) == datetime(2027, 2, 16, 9, 0, tzinfo=SAST) != due_before


def test_the_api_escalates_with_a_reason(engine, case, token_for, client):
    headers = token_for("agent")
    missing = client.post(f"/api/v1/instances/{case}/escalate", json={}, headers=headers)
    assert missing.status_code == 400 and "reason" in missing.json["error"]["message"]
    wrong = client.post(f"/api/v1/instances/{case}/escalate", json={"reason": 5}, headers=headers)
    assert wrong.status_code == 400
    assert client.post(f"/api/v1/instances/{case}/escalate", json={"reason": "x"},
                       headers=token_for("clerk")).status_code == 403
    assert client.post("/api/v1/instances/999999/escalate", json={"reason": "x"}, headers=headers).status_code == 404
    assert clocks(engine, case)["resolve"].level == "agent"
    done = client.post(f"/api/v1/instances/{case}/escalate", json={"reason": "Refund above my limit."},
                       headers=headers)
    assert done.status_code == 200, done.json
    assert done.json["kind"] == "warned" and done.json["detail"]["level"] == "supervisor"
    assert done.json["reason"] == "referral: Refund above my limit." and done.json["instance_id"] == case
    assert clocks(engine, case)["resolve"].level == "supervisor"


def test_the_openapi_document_describes_escalate(client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/instances/{instance_id}/escalate"]["post"]
    assert operation["operationId"] == "escalateInstance"
    assert operation["requestBody"]["content"]["application/json"]["schema"]["required"] == ["reason"]


def test_the_api_holds_and_releases_a_case(engine, case, token_for, client, clock):
    headers, url = token_for("agent"), f"/api/v1/instances/{case}"
    due_before = clocks(engine, case)["resolve"].due_at
    for bad, message in (({}, "give a reason for putting the case on hold"), ({"reason": "  "}, "give a reason"),
                         ({"reason": ["x"]}, "`reason` must be a string"), ({"reason": "x" * 501}, "at most 500")):
        refused = client.post(f"{url}/hold", json=bad, headers=headers)
        assert refused.status_code == 400 and message in refused.json["error"]["message"], refused.json
    assert client.post(f"{url}/hold", json={"reason": "x"}, headers=token_for("clerk")).status_code == 403
    assert client.post("/api/v1/instances/999999/hold", json={"reason": "x"}, headers=headers).status_code == 404
    not_held = client.post(f"{url}/release", headers=headers)
    assert not_held.status_code == 400 and "not on hold" in not_held.json["error"]["message"]
    assert clocks(engine, case)["resolve"].state == "running"

    held = client.post(f"{url}/hold", json={"reason": "Asked for the delivery note number."}, headers=headers)
    assert held.status_code == 200, held.json
    assert held.json["on_hold"] == "waiting on client"
    resolve = {c["target"]: c for c in held.json["clocks"]}["resolve"]
    assert (resolve["state"], resolve["due_at"], resolve["paused_reason"]) == ("paused", None, "waiting on client")
    again = client.post(f"{url}/hold", json={"reason": "Again."}, headers=headers)
    assert again.status_code == 400 and "already on hold" in again.json["error"]["message"]

    clock.advance(days=1)  # Tuesday 11:00: nine business hours on hold
    headers = token_for("agent")
    released = client.post(f"{url}/release", json={"note": "Sent the note."}, headers=headers)
    assert released.status_code == 200 and released.json["on_hold"] is None
    resolve = {c["target"]: c for c in released.json["clocks"]}["resolve"]
    assert resolve["state"] == "running"
    assert datetime.fromisoformat(resolve["due_at"]) == datetime(2027, 2, 16, 9, 0, tzinfo=SAST) != due_before
    shown = client.get(f"{url}/sla", headers=headers)
    assert shown.status_code == 200 and shown.json["clocks"] == released.json["clocks"]
    kinds = [e["kind"] for e in shown.json["events"]]
    assert kinds.count("paused") == kinds.count("resumed") == 2  # acknowledge is met; first response, resolve
    assert client.get("/api/v1/instances/999999/sla", headers=headers).status_code == 404


def test_the_openapi_document_describes_hold_and_release(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert paths[
        "/instances/{instance_id}/hold"]["post"]["requestBody"]["content"]["application/json"]["schema"][
        "required"] == ["reason"]
    assert paths["/instances/{instance_id}/release"]["post"]["operationId"] == "releaseInstance"
    assert paths["/instances/{instance_id}/sla"]["get"]["operationId"] == "getInstanceSla"
