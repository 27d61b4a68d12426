"""Only process owners (and admins) reach the studio; everyone else gets 403, visitors the sign-in page."""

import pytest

PAGES = [
    ("get", "/studio/", None),
    ("get", "/studio/processes/sla", None),
    ("get", "/studio/processes/sla/edit", None),
    ("get", "/studio/processes/sla/versions/1.zip", None),
    ("get", "/studio/processes/sla/diff?old=1&new=1", None),
    ("get", "/studio/processes/sla/forms/handle.json", None),
    ("get", "/studio/instances/1/migrate?to=1", None),
    ("post", "/studio/processes/sla/draft", {"files": {"sla.bpmn": "<x/>"}}),
    ("post", "/studio/processes/sla/draft/discard", None),
    ("post", "/studio/processes/sla/validate", {"files": {"sla.bpmn": "<x/>"}}),
    ("post", "/studio/processes/sla/deploy", {"files": {"sla.bpmn": "<x/>"}}),
    ("post", "/studio/forms/preview", {"schema": "{}"}),
    ("post", "/studio/processes/sla/forms/handle.json", {"schema": "{}"}),
    ("post", "/studio/processes/sla/migrate", None),
    ("post", "/studio/new", None),
    ("post", "/studio/import", None),
]


@pytest.mark.parametrize("method, url, body", PAGES)
def test_staff_without_the_role_get_403(sign_in, sla, engine, method, url, body):
    client = sign_in("alice")
    response = getattr(client, method)(url, json=body) if body is not None else getattr(client, method)(url)
    assert response.status_code == 403, (url, response.status_code)
    assert engine.drafts("alice") == []
    assert [p.version for p in engine.processes()] == [1]


@pytest.mark.parametrize("method, url, body", PAGES[:3])
def test_visitors_are_sent_to_sign_in(client, sla, method, url, body):
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_process_owner_and_admin_get_in(sign_in, sla, text):
    for who in ("po", "root"):
        response = sign_in(who).get("/studio/")
        assert response.status_code == 200
        assert "Complaint with SLA" in text(response)


def test_the_nav_shows_the_studio_to_process_owners_only(sign_in, sla):
    assert 'href="/studio/"' in sign_in("po").get("/").get_data(as_text=True)
    assert 'href="/studio/"' not in sign_in("alice").get("/").get_data(as_text=True)
