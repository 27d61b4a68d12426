"""Sign-in throttling, password rules, server-side sessions (sign-out, password change, timeouts), TOTP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.core import sessions, totp
from engine.core.passwords import check_new_password
from engine.core.users import save_user
from engine.errors import InvalidInput
from tests.support import PASSWORD, client_signed_in


def test_ten_wrong_passwords_are_answered_429_with_retry_after(client, staff):
    codes = [client.post("/login", data={"username": "alice", "password": f"wrong-{n}"}) for n in range(10)]
    assert [r.status_code for r in codes[:5]] == [401] * 5
    refused = codes[-1]
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    # the right password does not get through the lock either, from another address too
    right = client.post("/login", data={"username": "alice", "password": PASSWORD},
                        environ_overrides={"REMOTE_ADDR": "10.0.0.9"})
    assert right.status_code == 429
    # another account is still open from another address
    assert client.post("/login", data={"username": "bob", "password": PASSWORD},
                       environ_overrides={"REMOTE_ADDR": "10.0.0.9"}).status_code == 302


def test_one_address_trying_many_accounts_is_throttled(client, staff):
    codes = [client.post("/login", data={"username": f"user{n}", "password": "wrong-password"}).status_code
             for n in range(21)]
    assert codes[:20] == [401] * 20 and codes[20] == 429


@pytest.mark.parametrize(("password", "reason"), [
    ("short-pass1", "at least 12"), ("Password2024!", "common passwords"), ("qwertyuiop123", "common"),
    ("aaaaaaaaaaaaaaa", "common"), ("Sunshine2024!!", "digits or symbols added"),
    ("alice-is-my-name", "user name"), ("clientflow2026", "product"), ("x" * 257, "at most 256")])
def test_weak_passwords_are_refused_with_the_reason(password, reason):
    with pytest.raises(InvalidInput, match=reason):
        check_new_password(password, "alice")


def test_a_long_uncommon_password_is_accepted(engine, staff):
    check_new_password("tidal lantern orchard", "alice")
    with engine.write_session.begin() as session:
        assert save_user(session, "alice", ["Agent"], password="tidal lantern orchard").username == "alice"


def test_a_cookie_replayed_after_sign_out_gets_the_sign_in_page(app, staff, cookie_of):
    browser, other_device = client_signed_in(app, "alice"), client_signed_in(app, "alice")
    saved = cookie_of(browser)
    assert browser.get("/inbox/").status_code == 200
    assert browser.post("/logout").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", saved)
    response = replay.get("/inbox/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert other_device.get("/inbox/").status_code == 302  # sign-out ends every session of the user


def test_a_password_change_ends_every_session(app, engine, staff):
    browser = client_signed_in(app, "alice")
    with engine.write_session.begin() as session:
        save_user(session, "alice", ["Agent"], password="a brand new passphrase")
    assert browser.get("/inbox/").status_code == 302


def test_idle_timeout_and_absolute_lifetime(app, engine, staff, clock):
    browser = client_signed_in(app, "alice")
    clock.advance(timedelta(minutes=29))
    assert browser.get("/inbox/").status_code == 200  # activity keeps it alive
    clock.advance(timedelta(minutes=31))
    assert browser.get("/inbox/").status_code == 302  # idle for more than 30 minutes
    browser = client_signed_in(app, "alice")
    for _ in range(12 * 3):
        clock.advance(timedelta(minutes=20))
        status = browser.get("/inbox/").status_code
    assert status == 302  # 12 hours after sign-in, however active


def test_the_session_id_is_new_at_every_sign_in(app, engine, staff):
    first, second = client_signed_in(app, "alice"), client_signed_in(app, "alice")
    ids = {c.get_cookie("session").value for c in (first, second)}
    assert len(ids) == 2
    with engine.read_session() as session:
        assert sessions.count_open(session, engine.user("alice").id) == 2


def test_totp_is_required_for_configured_roles(app, engine, staff, clock, text):
    app.config["TOTP_REQUIRED_ROLES"] = ["Admin"]
    client = app.test_client()
    response = client.post("/login", data={"username": "root", "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    page = client.get("/login/code")
    assert client.get("/inbox/").status_code == 302  # not signed in yet
    secret = page.get_data(as_text=True).split("<code>")[1].split("</code>")[0]
    assert client.post("/login/code", data={"code": "000000"}).status_code == 401
    assert client.post("/login/code", data={"code": totp.code_at(secret, clock.now())}).status_code == 302
    assert client.get("/inbox/").status_code == 200
    # from now on a code is asked for, and the key is not shown again
    again = app.test_client()
    again.post("/login", data={"username": "root", "password": PASSWORD})
    assert "Key:" not in text(again.get("/login/code"))
    assert again.post("/login/code", data={"code": totp.code_at(secret, clock.now())}).status_code == 302
    # roles that need no code sign in with the password alone
    assert client_signed_in(app, "alice").get("/inbox/").status_code == 200
