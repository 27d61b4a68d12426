"""Sign-in, sign-out, the session cookie, and pages refusing anonymous visitors."""

import pytest

from tests.support import PASSWORD


def test_sign_in_and_out(client, staff, text):
    page = client.get("/login")
    assert page.status_code == 200
    assert 'autocomplete="current-password"' in page.text
    response = client.post("/login?next=/instances/", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/instances/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "alice" in text(client.get("/inbox/"))
    assert client.get("/logout").status_code == 405  # signing out is a POST (with CSRF), never a link
    response = client.post("/logout")
    assert response.status_code == 302
    assert client.get("/inbox/").status_code == 302


def test_wrong_password_is_refused_without_saying_which_part(client, staff, text):
    for username, password in (("alice", "wrong-password"), ("nobody", PASSWORD)):
        response = client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 401
        assert "Wrong user name or password." in text(response)
    assert client.get("/inbox/").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_sign_in_never_redirects_off_site(client, staff, target):
    response = client.post("/login", query_string={"next": target},
                           data={"username": "alice", "password": PASSWORD})
    assert response.headers["Location"] == "/inbox/"


@pytest.mark.parametrize("path", ["/", "/inbox/", "/instances/", "/instances/1", "/tasks/x", "/admin/users"])
def test_pages_send_anonymous_visitors_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_a_signed_in_user_skips_the_sign_in_page(signed_in):
    client = signed_in("alice")
    assert client.get("/login").headers["Location"] == "/inbox/"
