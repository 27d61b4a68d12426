"""Team view and assignment: supervisors see their lanes' tasks with the assignee, assign, reassign and release;
holders delegate; bulk actions; every change audited and mailed; the API's assign endpoint."""

import pytest
from sqlalchemy import select

from engine.core.db.models import Notification


def start_signoffs(engine, count: int, by: str = "olivia"):
    return [engine.start("signoff", {"client_name": f"Client {n}"}, by=by) for n in range(count)]


def mails_to(engine, recipient: str) -> list:
    with engine.read_session() as session:
        return list(session.scalars(select(Notification).where(Notification.recipient == recipient)))


def kinds(engine, instance_id: int) -> list[str]:
    return [e.kind for e in engine.events(instance_id) if e.kind.startswith("task_")]


def test_only_supervisors_get_the_team_view_with_the_assignee(engine, signed_in, signoff, open_task, text):
    first, second = start_signoffs(engine, 2)
    engine.claim(open_task(first.id).id, "olivia")
    page = text(signed_in("sam").get("/inbox/?view=team"))
    assert first.reference in page and second.reference in page
    assert "Assignee" in page and "olivia" in page and "Unassigned" in page
    assert "Client 0" not in page  # a supervisor outside the lane does not get client names in the list
    assert "Team tasks" in text(signed_in("sam").get("/inbox/"))
    olivia = signed_in("olivia")
    assert "Team tasks" not in text(olivia.get("/inbox/"))
    assert olivia.get("/inbox/?view=team").status_code == 403


def test_a_supervisor_reassigns_a_stuck_task_audited_and_mailed(engine, signed_in, signoff, open_task, text):
    [instance] = start_signoffs(engine, 1)
    task = open_task(instance.id)
    engine.claim(task.id, "olivia")
    sam = signed_in("sam")
    page = text(sam.get(f"/tasks/{task.id}"))
    assert "Assignment" in page and "oscar" in page and "cora" not in page  # only people of the lane
    response = sam.post(f"/tasks/{task.id}/assign", data={"assignee": "oscar"}, follow_redirects=True)
    assert "is now with oscar" in text(response)
    assert engine.task(task.id).claimed_by == "oscar"
    [event] = [e for e in engine.events(instance.id) if e.kind == "task_reassigned"]
    assert event.actor == "sam" and event.detail["previous"] == "olivia" and event.detail["assignee"] == "oscar"
    [mail] = mails_to(engine, "oscar@example.com")
    assert mail.template == "task_assigned" and mail.payload["task_name"] == "Collect documents"
    assert mail.payload["reference"] == instance.reference and mail.instance_id == instance.id
    sam.post(f"/tasks/{task.id}/assign", data={"assignee": ""})
    assert engine.task(task.id).claimed_by is None
    assert kinds(engine, instance.id)[-1] == "task_released"


def test_the_new_holder_must_work_in_the_lane(engine, signed_in, signoff, open_task, text):
    [instance] = start_signoffs(engine, 1)
    task = open_task(instance.id)
    response = signed_in("sam").post(f"/tasks/{task.id}/assign", data={"assignee": "cora"}, follow_redirects=True)
    assert "Nothing was changed" in text(response) and "Onboarding Officer" in text(response)
    assert engine.task(task.id).claimed_by is None and "task_assigned" not in kinds(engine, instance.id)
    response = signed_in("sam").post(f"/tasks/{task.id}/assign", data={"assignee": "nobody"}, follow_redirects=True)
    assert "no user named" in text(response) and "nobody" in text(response)
    assert mails_to(engine, "cora@example.com") == []


def test_separation_of_duties_bars_the_collector_from_the_sign_off(engine, signed_in, signoff, open_task, text):
    [instance] = start_signoffs(engine, 1)
    collect = open_task(instance.id)
    engine.claim(collect.id, "oscar")
    engine.complete(collect.id, {}, by="oscar")
    signoff_task = open_task(instance.id, "signoff_task")
    sam = signed_in("sam")
    response = sam.post(f"/tasks/{signoff_task.id}/assign", data={"assignee": "oscar"}, follow_redirects=True)
    assert "separation of duties" in text(response)
    assert engine.task(signoff_task.id).claimed_by is None
    sam.post(f"/tasks/{signoff_task.id}/assign", data={"assignee": "cora"})
    assert engine.task(signoff_task.id).claimed_by == "cora"


def test_the_holder_delegates_and_others_may_not_reassign(engine, signed_in, signoff, open_task, text):
    [instance] = start_signoffs(engine, 1)
    task = open_task(instance.id)
    engine.claim(task.id, "olivia")
    response = signed_in("cora").post(f"/tasks/{task.id}/assign", data={"assignee": "cora"})
    assert response.status_code == 403 and engine.task(task.id).claimed_by == "olivia"
    olivia = signed_in("olivia")
    assert "Hand this task to a colleague" in text(olivia.get(f"/tasks/{task.id}"))
    olivia.post(f"/tasks/{task.id}/assign", data={"assignee": "oscar"})
    assert engine.task(task.id).claimed_by == "oscar"
    assert kinds(engine, instance.id)[-1] == "task_delegated"
    response = olivia.post(f"/tasks/{task.id}/assign", data={"assignee": "olivia"}, follow_redirects=True)
    assert "does not supervise" in text(response) and engine.task(task.id).claimed_by == "oscar"


def test_bulk_assign_release_and_claim(engine, signed_in, signoff, order, open_task, text):
    signoffs = start_signoffs(engine, 2)
    capture = engine.start("order", {"customer_name": "ACME"}, by="alice")
    ids = [open_task(i.id).id for i in signoffs]
    capture_id = open_task(capture.id).id
    sam = signed_in("sam")
    response = sam.post("/inbox/bulk", data={"action": "assign", "assignee": "olivia", "task": [*ids, capture_id],
                                             "next": "/inbox/?view=team"}, follow_redirects=True)
    page = text(response)
    assert "2 tasks assigned to olivia" in page and "Not changed" in page and "Agent" in page
    assert [engine.task(i).claimed_by for i in ids] == ["olivia", "olivia"]
    assert engine.task(capture_id).claimed_by is None
    sam.post("/inbox/bulk", data={"action": "release", "task": ids})
    assert [engine.task(i).claimed_by for i in ids] == [None, None]
    response = signed_in("oscar").post("/inbox/bulk", data={"action": "claim", "task": ids}, follow_redirects=True)
    assert "2 tasks claimed by you" in text(response)
    assert [engine.task(i).claimed_by for i in ids] == ["oscar", "oscar"]
    response = sam.post("/inbox/bulk", data={"action": "assign", "task": ids}, follow_redirects=True)
    assert "nothing was changed" in text(response)


class TestPerLaneSupervisors:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "LANE_SUPERVISORS": {"Compliance Officer": ["Head of Compliance"]}}

    def test_a_listed_lane_is_supervised_by_its_roles_only(self, engine, make_user, signed_in, signoff, open_task,
                                                           text):
        make_user("hana", "Head of Compliance", email="hana@example.com")
        make_user("otto", "Onboarding Officer Supervisor", email="otto@example.com")
        [instance] = start_signoffs(engine, 1)
        collect = open_task(instance.id)
        assert "Assignment" in text(signed_in("otto").get(f"/tasks/{collect.id}"))  # "<Lane> Supervisor"
        engine.claim(collect.id, "olivia")
        engine.complete(collect.id, {}, by="olivia")
        signoff_task = open_task(instance.id, "signoff_task")
        for outsider in ("sam", "otto"):
            response = signed_in(outsider).post(f"/tasks/{signoff_task.id}/assign", data={"assignee": "cora"})
            assert response.status_code == 403
        signed_in("hana").post(f"/tasks/{signoff_task.id}/assign", data={"assignee": "cora"})
        assert engine.task(signoff_task.id).claimed_by == "cora"
        assert instance.reference in text(signed_in("hana").get("/inbox/?view=team"))
        assert instance.reference not in text(signed_in("otto").get("/inbox/?view=team"))


def test_the_api_assigns_and_releases(client, engine, token_for, signoff, open_task):
    [instance] = start_signoffs(engine, 1)
    task = open_task(instance.id)
    sam, olivia = token_for("sam"), token_for("olivia")

    def post(headers, body):
        return client.post(f"/api/v1/tasks/{task.id}/assign", headers=headers, json=body)
    response = post(sam, {"user": "oscar"})
    assert response.status_code == 200 and response.json["claimed_by"] == "oscar"
    assert post(sam, {"user": "cora"}).status_code == 403
    assert post(olivia, {"user": "olivia"}).status_code == 403  # held by oscar, and olivia supervises nothing
    for bad in ({}, {"user": 7}, {"user": " "}):
        response = post(sam, bad)
        assert response.status_code == 400 and "`user`" in response.json["error"]["message"]
    assert post(sam, {"user": "ghost"}).status_code == 404
    response = post(sam, {"user": None})
    assert response.status_code == 200 and response.json["claimed_by"] is None
    assert post(sam, {"user": None}).status_code == 409  # nothing to release
    assert engine.task(task.id).claimed_by is None
    assert kinds(engine, instance.id) == ["task_assigned", "task_released"]
