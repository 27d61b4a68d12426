"""The web app and API: least privilege per role, every view logged, Compliance Officer pages."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from engine import privacy

from .conftest import JANE
from .scan import traces

OTHER_ROLES = ["agent", "reviewer", "onboarder", "super"]
PAGES = ["/privacy/", "/privacy/access-log", "/privacy/subjects", "/privacy/erasures"]
POSTS = ["/privacy/subjects", "/privacy/subjects/export", "/privacy/erasures", "/privacy/erasures/1/approve",
         "/privacy/erasures/1/reject"]


@pytest.mark.parametrize("user", OTHER_ROLES)
def test_every_privacy_page_refuses_other_roles(signed_in, jane, engine, user):
    client = signed_in(user)
    request = privacy.request_erasure(engine, [jane.instances["feedback"]], "Client asked by letter", by="officer")
    for page in PAGES:
        assert client.get(page).status_code == 403, page
    for page in POSTS:
        form = {"q": jane.email, "reason": "asked for by letter", "instance_id": jane.instances["complaint"]}
        assert client.post(page, data=form).status_code == 403, page
    assert privacy.erasure_request(engine, request.id).status == "pending"
    assert [r.id for r in privacy.erasure_requests(engine)] == [request.id]
    assert traces(engine, [jane.email])


def test_privacy_pages_need_sign_in(client):
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("user", ["officer", "root"])
def test_the_data_map_shows_fields_purposes_and_lanes(signed_in, models, text, user):
    page = text(signed_in(user).get("/privacy/"))
    assert "Investigate and resolve the client's complaint" in page
    assert "Open the client's account and meet know-your-customer duties" in page
    assert "client.bank_account" in page and "sensitive" in page and "Collect documents" in page
    assert "Onboarding Officer, Compliance Officer" in page or "Compliance Officer, Onboarding Officer" in page


def test_staff_outside_the_lanes_see_no_personal_fields(signed_in, jane, text):
    complaint = f"/instances/{jane.instances['complaint']}"
    for user in ("reviewer", "onboarder", "super"):
        page = text(signed_in(user).get(complaint))
        assert jane.email not in page and jane.name not in page and jane.id_number not in page, user
        assert privacy.RESTRICTED in page and "Delivery" in page  # the non-personal facts stay visible (labelled)
    for user in ("agent", "officer", "root"):
        page = text(signed_in(user).get(complaint))
        assert jane.email in page and jane.id_number in page, user
    # The onboarding case: its own lanes see it, a reviewer does not.
    onboarding = f"/instances/{jane.instances['onboarding']}"
    assert jane.bank_account in text(signed_in("onboarder").get(onboarding))
    assert jane.bank_account not in text(signed_in("reviewer").get(onboarding))


def test_api_tokens_carry_only_their_users_roles(client, jane, token_for, engine, run_person):
    url = f"/api/v1/instances/{jane.instances['complaint']}"
    as_reviewer = client.get(url, headers=token_for("reviewer")).get_json()
    assert as_reviewer["data"]["email"] == privacy.RESTRICTED and as_reviewer["label"] == privacy.RESTRICTED
    assert as_reviewer["data"]["category"] == "delivery"
    assert jane.email not in json.dumps(as_reviewer)
    as_agent = client.get(url, headers=token_for("agent")).get_json()
    assert as_agent["data"]["email"] == jane.email and as_agent["label"] == jane.name
    open_case = run_person({**JANE, "email": "open@example.org"}, finish=False)
    task = engine.tasks(instance_id=open_case.instances["complaint"])[0]
    refused = client.get(f"/api/v1/tasks/{task.id}", headers=token_for("reviewer"))
    assert refused.status_code == 403 and "Agent" in refused.get_json()["error"]["message"]
    assert client.get(f"/api/v1/tasks/{task.id}", headers=token_for("agent")).status_code == 200


def test_every_view_of_personal_data_is_logged(signed_in, client, token_for, engine, run_person, accesses):
    person = run_person(JANE, finish=False)
    complaint = person.instances["complaint"]
    task = engine.tasks(instance_id=complaint)[0]
    assert accesses() == []
    signed_in("agent").get(f"/instances/{complaint}")
    signed_in("reviewer").get(f"/instances/{complaint}")
    signed_in("agent").get(f"/tasks/{task.id}")
    client.get(f"/api/v1/instances/{complaint}", headers=token_for("agent"))
    client.get(f"/api/v1/tasks/{task.id}", headers=token_for("agent"))
    assert accesses() == [
        ("agent", "web", "view_instance", complaint, None, [complaint], "lane Agent"),
        ("reviewer", "web", "view_instance", complaint, None, [complaint],
         "restricted view: personal fields hidden (not in the process's lanes)"),
        ("agent", "web", "view_task", complaint, task.id, [complaint], "lane Agent"),
        ("agent", "api", "view_instance", complaint, None, [complaint], "lane Agent"),
        ("agent", "api", "view_task", complaint, task.id, [complaint], "lane Agent"),
    ]
    # A failed submission re-shows the task, and so is a view too.
    signed_in("agent").post(f"/tasks/{task.id}", data={"outcome": "not-a-choice"})
    assert accesses()[-1][2:5] == ("view_task", complaint, task.id)


def test_a_task_without_personal_fields_is_not_logged(engine, signed_in, make_user, accesses, tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "plain.bpmn").write_text(PLAIN_MODEL)
    engine.deploy(folder, by="root")
    started = engine.start("plain", {"amount": 3}, by="agent")
    task = engine.tasks(instance_id=started.id)[0]
    assert signed_in("agent").get(f"/tasks/{task.id}").status_code == 200
    assert accesses() == []
    signed_in("agent").get(f"/instances/{started.id}")  # a case's data is always logged
    assert [a[2] for a in accesses()] == ["view_instance"]


PLAIN_MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="plain" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="check" name="Check">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""


def test_subject_search_and_export_bundle(signed_in, engine, jane, piet, accesses, text):
    officer = signed_in("officer")
    page = text(officer.post("/privacy/subjects", data={"q": jane.email}))
    for person, shown in ((jane, True), (piet, False)):
        for instance_id in person.instances.values():
            assert (engine.instance(instance_id).reference in page) is shown
    assert "Privacy test complaint" in page and "3 case(s), 2 message(s)" in page
    assert jane.email not in officer.get("/privacy/access-log").get_data(as_text=True)
    response = officer.post("/privacy/subjects/export", data={"q": jane.email, "reason": "SAR-2026-0007"})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == ["subject-access.html", "subject-access.json"]
    record = json.loads(archive.read("subject-access.json"))
    html = archive.read("subject-access.html").decode()
    assert sorted(i["instance"]["key"] for i in record["instances"]) == ["complaint", "feedback", "onboarding"]
    for value in (jane.email, jane.name, jane.bank_account, "Investigate and resolve the client"):
        assert value in html
    for value in piet.values:
        assert value not in html and value not in json.dumps(record)
    ids = sorted(jane.instances.values())
    assert accesses(action="search") == [("officer", "web", "search", None, None, ids, "subject access search")]
    assert accesses(action="export") == [("officer", "web", "export", None, None, ids, "SAR-2026-0007")]
    # The export lists who looked: the search just made is in it.
    assert [a["action"] for a in record["accesses"]] == ["search"]


def test_an_export_without_a_reason_is_refused_and_not_logged(signed_in, jane, accesses):
    response = signed_in("officer").post("/privacy/subjects/export", data={"q": jane.email, "reason": ""})
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert accesses(action="export") == []


def test_erasure_through_the_web_needs_a_second_officer(signed_in, engine, jane, text):
    officer, officer2 = signed_in("officer"), signed_in("officer2")
    ids = sorted(jane.instances.values())
    response = officer.post("/privacy/erasures", data={"instance_id": ids, "reason": "Client asked, letter 77"})
    assert response.status_code == 303
    request = privacy.erasure_requests(engine)[0]
    assert (request.status, request.instance_ids, request.requested_by) == ("pending", ids, "officer")
    assert "Waiting for another Compliance Officer" in text(officer.get("/privacy/erasures"))
    refused = officer.post(f"/privacy/erasures/{request.id}/approve")
    assert refused.status_code == 403 and "separation of duties" in text(refused)
    assert traces(engine, jane.values) and privacy.erasure_request(engine, request.id).status == "pending"
    assert officer2.post(f"/privacy/erasures/{request.id}/approve").status_code == 303
    assert privacy.erasure_request(engine, request.id).status == "done"
    assert traces(engine, jane.values) == []
    assert "anonymised" in text(officer2.get("/privacy/erasures"))


def test_bad_erasure_requests_change_nothing(signed_in, engine, run_person, text):
    person = run_person(JANE, finish=False)
    officer = signed_in("officer")
    response = officer.post("/privacy/erasures", data={"instance_id": [person.instances["complaint"]],
                                                        "reason": "Client asked, letter 77"}, follow_redirects=True)
    assert "Nothing was requested: only completed or cancelled instances" in text(response)
    response = officer.post("/privacy/erasures", data={"instance_id": [person.instances["complaint"]],
                                                        "reason": "short"}, follow_redirects=True)
    assert "Give the reason for the erasure" in text(response)
    assert privacy.erasure_requests(engine) == []


def test_access_log_search(signed_in, jane, piet, accesses, text):
    signed_in("agent").get(f"/instances/{jane.instances['complaint']}")
    signed_in("agent").get(f"/instances/{piet.instances['complaint']}")
    signed_in("reviewer").get(f"/instances/{jane.instances['feedback']}")
    officer = signed_in("officer")
    reference = officer.application.extensions["clientflow"].instance(jane.instances["complaint"]).reference
    page = text(officer.get("/privacy/access-log", query_string={"case": reference}))
    assert page.count("view instance #") == 1 and "lane Agent" in page
    page = text(officer.get("/privacy/access-log", query_string={"actor": "reviewer"}))
    assert page.count("view instance #") == 1 and f"#{jane.instances['feedback']}" in page
    bad = officer.get("/privacy/access-log", query_string={"from": "2026-13-01"})
    assert bad.status_code == 400 and "`from` must be a date written as YYYY-MM-DD" in text(bad)
    unknown = officer.get("/privacy/access-log", query_string={"case": "CMP-1999-000001"})
    assert unknown.status_code == 400 and "no case has that reference" in text(unknown)


def test_instance_lists_hide_client_names_outside_the_lanes(signed_in, client, token_for, jane, text):
    assert jane.name in text(signed_in("agent").get("/instances/"))
    page = text(signed_in("reviewer").get("/instances/"))
    assert jane.name not in page and jane.company not in page and privacy.RESTRICTED in page
    listed = client.get("/api/v1/instances", headers=token_for("onboarder")).get_json()["instances"]
    labels = {i["key"]: i["label"] for i in listed}
    assert labels == {"complaint": privacy.RESTRICTED, "onboarding": jane.company, "feedback": None}
