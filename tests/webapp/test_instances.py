"""Instances: search, the detail page (diagram state, data, audit), start, cancel and retry by role."""

import json
import re


def diagram_state(response) -> dict:
    found = re.search(r'<script type="application/json" id="diagram-state">(.*?)</script>', response.text, re.S)
    return json.loads(found.group(1))


def test_search_by_reference_client_process_and_status(engine, signed_in, order, signoff, text):
    acme = engine.start("order", {"customer_name": "ACME"}, by="alice")
    umbrella = engine.start("signoff", {"client_name": "Umbrella"}, by="olivia")
    engine.cancel(umbrella.id, by="root", reason="duplicate")
    sam, bob = signed_in("sam"), signed_in("bob")
    assert umbrella.reference not in text(bob.get("/instances/?q=acm"))
    assert acme.reference in text(bob.get("/instances/?q=acm"))  # bob works in the order lanes: he sees the label
    assert acme.reference not in text(sam.get("/instances/?q=acm"))  # sam does not: the label does not match
    assert acme.reference in text(sam.get(f"/instances/?q={acme.reference}"))
    page = text(sam.get("/instances/?process=signoff"))
    assert umbrella.reference in page and acme.reference not in page
    page = text(sam.get("/instances/?status=cancelled"))
    assert umbrella.reference in page and acme.reference not in page
    assert "No instances match" in text(sam.get("/instances/?q=nothing-like-this"))


def test_detail_shows_diagram_state_data_tasks_timers_and_audit(engine, signed_in, signoff, open_task, text):
    instance = engine.start("signoff", {"client_name": "Umbrella"}, by="olivia")
    engine.complete(open_task(instance.id).id, {"vat": "4123"}, by="olivia")
    response = signed_in("cora").get(f"/instances/{instance.id}")
    assert response.status_code == 200
    state = diagram_state(response)
    assert "collect" in state["completed"] and "start" in state["completed"]
    assert "signoff_task" in state["active"]
    assert state["timers"] == ["reminder"]
    page = text(response)
    assert "Compliance sign-off" in page and "4123" in page and "Sign-off reminder" in page
    assert "task completed" in page and "instance started" in page
    assert "bpmn-navigated-viewer.min.js" in response.text
    assert "Cancel instance" not in page  # cora is not a supervisor


def test_the_diagram_xml_of_the_instance_version(engine, signed_in, signoff):
    instance = engine.start("signoff", by="olivia")
    olivia = signed_in("olivia")
    response = olivia.get(f"/instances/{instance.id}/diagram.bpmn")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert b'bpmnElement="signoff_task"' in response.data
    assert olivia.get(f"/instances/{instance.id}/diagram.bpmn?file=nope.bpmn").status_code == 404
    assert olivia.get("/instances/999999").status_code == 404
    assert olivia.get("/instances/99999999999").status_code == 404


def test_start_a_process_and_land_on_my_first_task(engine, signed_in, signoff):
    response = signed_in("olivia").post("/processes/signoff/start")
    [instance] = engine.list_instances()
    [task] = engine.tasks(instance_id=instance.id)
    assert response.status_code == 303 and response.headers["Location"] == f"/tasks/{task.id}"
    assert instance.started_by == "olivia"
    response = signed_in("cora").post("/processes/signoff/start")
    assert response.headers["Location"].startswith("/instances/")
    assert signed_in("cora").post("/processes/nope/start").status_code == 404


def test_cancel_needs_a_manager_role_and_a_reason(engine, signed_in, signoff, text):
    instance = engine.start("signoff", by="olivia")
    olivia, sam = signed_in("olivia"), signed_in("sam")
    assert olivia.post(f"/instances/{instance.id}/cancel", data={"reason": "no"}).status_code == 403
    assert "Cancel instance" in text(sam.get(f"/instances/{instance.id}"))
    response = sam.post(f"/instances/{instance.id}/cancel", data={"reason": " "}, follow_redirects=True)
    assert "Give a reason" in text(response)
    assert engine.instance(instance.id).status == "running"
    response = sam.post(f"/instances/{instance.id}/cancel", data={"reason": "client withdrew"},
                        follow_redirects=True)
    assert "The instance was cancelled" in text(response)
    assert engine.instance(instance.id).status == "cancelled"
    response = sam.post(f"/instances/{instance.id}/cancel", data={"reason": "again"})
    assert response.status_code == 409 and "cancelled" in text(response)


def test_retry_an_errored_instance(engine, signed_in, order, open_task, text):
    instance = engine.start("order", by="alice")
    engine.complete(open_task(instance.id).id, {}, by="alice")  # the score script needs `amount`
    assert engine.instance(instance.id).status == "error"
    root = signed_in("root")
    page = text(root.get(f"/instances/{instance.id}"))
    assert "stopped with an error" in page and "Retry the failed step" in page
    assert signed_in("alice").post(f"/instances/{instance.id}/retry").status_code == 403
    response = root.post(f"/instances/{instance.id}/retry", follow_redirects=True)
    assert "The retry failed again" in text(response)
    assert diagram_state(root.get(f"/instances/{instance.id}"))["error"] == ["score"]
