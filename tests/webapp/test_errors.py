"""Error pages for people, JSON errors for the API, and CSRF protection on every form."""

import re

import pytest

from tests.support import PASSWORD


def test_error_pages_are_real_pages(signed_in, text):
    client = signed_in("alice")
    response = client.get("/no/such/page")
    assert response.status_code == 404 and response.mimetype == "text/html"
    page = text(response)
    assert "Error 404" in page and "Back to your inbox" in page and "Sign out" in page
    assert client.get("/instances/%00").status_code in (400, 404)
    response = client.get("/instances/?q=%00")
    assert response.status_code == 400 and "NUL" in text(response)


def test_api_errors_are_json(client, staff):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404 and response.json["error"]["status"] == 404
    response = client.delete("/api/v1/processes")
    assert response.status_code in (401, 405) and "error" in response.json


@pytest.fixture
def failing_app(app_config, database_url):
    from webapp import create_app

    application = create_app({**app_config, "TESTING": False, "PROPAGATE_EXCEPTIONS": False})

    @application.get("/boom")
    def boom():
        raise RuntimeError("secret internals")
    return application


def test_an_unexpected_error_is_a_500_page_without_internals(failing_app, caplog):
    response = failing_app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.text and "secret internals" not in response.text
    assert "secret internals" in caplog.text  # logged for operators
    response = failing_app.test_client().get("/boom", headers={"Accept": "application/json"})
    assert response.status_code == 500 and response.json["error"]["message"] == "An unexpected error occurred."


@pytest.fixture
def csrf_app(app_config):
    from webapp import create_app

    return create_app({**app_config, "WTF_CSRF_ENABLED": True})


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


def test_forms_without_a_valid_csrf_token_are_refused(csrf_app, engine, staff, order, text):
    client = csrf_app.test_client()
    response = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 400 and "CSRF" in text(response)
    token = csrf_token(client.get("/login").text)
    response = client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    instance = engine.start("order", by="alice")
    [task] = engine.tasks(instance_id=instance.id)
    for data in ({}, {"csrf_token": "forged"}):
        for path in (f"/tasks/{task.id}/claim", f"/tasks/{task.id}", "/logout", "/processes/order/start"):
            assert client.post(path, data=data).status_code == 400
    assert engine.task(task.id).claimed_by is None and len(engine.list_instances()) == 1
    page = client.get(f"/tasks/{task.id}").text
    assert client.post(f"/tasks/{task.id}/claim", data={"csrf_token": csrf_token(page)}).status_code == 303
    assert engine.task(task.id).claimed_by == "alice"


def test_the_api_needs_no_csrf_token(csrf_app, engine, staff, order, token_for):
    client = csrf_app.test_client()
    response = client.post("/api/v1/processes/order/instances", json={"data": {}}, headers=token_for("alice"))
    assert response.status_code == 201
