"""Administration of users, roles and API tokens: Admin only."""

import re

from tests.support import PASSWORD


def test_only_admins_reach_the_admin_pages(signed_in):
    sam = signed_in("sam")
    for path in ("/admin/users", "/admin/users/new", "/admin/users/alice"):
        assert sam.get(path).status_code == 403
    assert sam.post("/admin/users/alice/tokens").status_code == 403
    assert "Users" not in sam.get("/inbox/").text.split("<main")[0]


def test_create_a_user_who_can_then_sign_in(app, engine, signed_in, text):
    root = signed_in("root")
    assert "olivia" in text(root.get("/admin/users"))
    response = root.post("/admin/users/new", data={
        "username": "nina", "display_name": "Nina N", "email": "nina@example.com",
        "roles": "Compliance Officer, Onboarding Officer", "password": "long-enough-1"})
    assert response.status_code == 303
    nina = engine.user("nina")
    assert nina.roles == {"Compliance Officer", "Onboarding Officer"} and nina.email == "nina@example.com"
    client = app.test_client()
    assert client.post("/login", data={"username": "nina", "password": "long-enough-1"}).status_code == 302


def test_update_roles_keeps_the_password_when_left_empty(app, engine, signed_in):
    root = signed_in("root")
    page = root.get("/admin/users/alice")
    assert 'value="Agent"' in page.text and "readonly" in page.text
    response = root.post("/admin/users/alice", data={"username": "alice", "roles": "Agent, Supervisor",
                                                     "display_name": "Alice A", "email": "", "password": ""})
    assert response.status_code == 303
    assert engine.user("alice").roles == {"Agent", "Supervisor"}
    assert app.test_client().post("/login", data={"username": "alice", "password": PASSWORD}).status_code == 302


def test_invalid_user_input_is_shown_next_to_the_fields(engine, signed_in, text):
    root = signed_in("root")
    response = root.post("/admin/users/new", data={"username": "x y", "email": "not-an-email", "password": "short"})
    assert response.status_code == 422
    page = text(response)
    assert "Not an email address." in page and "at least 12" in page.lower()
    response = root.post("/admin/users/new", data={"username": "x y", "roles": "Agent"})
    assert response.status_code == 422 and "invalid user name" in text(response)
    assert root.get("/admin/users/nobody").status_code == 404


def test_an_api_token_is_shown_once_and_acts_as_its_user(app, signed_in):
    root = signed_in("root")
    response = root.post("/admin/users/carol/tokens", data={"name": "mail gateway"})
    assert response.status_code == 200
    token = re.search(r'value="(cf_[^"]+)"', response.text).group(1)
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json["username"] == "carol" and me.json["roles"] == ["Reviewer"]
    assert token not in root.get("/admin/users/carol").text
