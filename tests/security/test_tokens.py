"""API tokens: expiry, revocation (admin page and CLI), scopes, per-token processes."""

from __future__ import annotations

from datetime import timedelta

from engine.core import tokens


def make_token(engine, username, **options) -> dict[str, str]:
    with engine.write_session.begin() as session:
        secret, _ = tokens.create_token(session, username, "t", now=engine.clock.now(), **options)
    return {"Authorization": f"Bearer {secret}"}


def test_an_expired_token_gets_401(client, engine, staff, clock):
    headers = make_token(engine, "alice", days=1)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    clock.advance(timedelta(days=1, seconds=1))
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401 and "invalid_token" in response.headers["WWW-Authenticate"]


def test_a_token_revoked_on_the_admin_page_gets_401(client, engine, staff, signed_in, text):
    headers = make_token(engine, "alice")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    root = signed_in("root")
    page = root.get("/admin/users/alice")
    assert "read, work, start" in text(page) and headers["Authorization"][7:] not in page.get_data(as_text=True)
    with engine.read_session() as session:
        token_id = tokens.list_tokens(session, "alice")[0].id
    assert root.post(f"/admin/users/alice/tokens/{token_id}/revoke").status_code == 303
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert "revoked" in text(root.get("/admin/users/alice"))


def test_admin_page_creates_a_token_with_scopes_days_and_processes(client, engine, staff, signed_in, order, text):
    page = signed_in("root").post("/admin/users/alice/tokens", data={"name": "gateway", "scopes": ["read"],
                                                                    "days": "7", "processes": "order"})
    assert page.status_code == 200 and "Scopes: read; processes: order" in text(page)
    with engine.read_session() as session:
        view = tokens.list_tokens(session, "alice")[0]
    assert view.scopes == ("read",) and view.process_keys == ("order",)
    assert view.expires_at - view.created_at == timedelta(days=7)


def test_the_cli_creates_lists_and_revokes_tokens(cli, client, engine, staff):
    created = cli("tokens", "create", "alice", "--label", "mail", "--scope", "read", "--days", "30")
    assert created.exit_code == 0, created.output
    secret = created.output.splitlines()[0]
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    listed = cli("tokens", "list", "--user", "alice")
    assert "mail" in listed.output and "active" in listed.output and secret not in listed.output
    token_id = listed.output.splitlines()[-1].split()[0]
    assert cli("tokens", "revoke", token_id).exit_code == 0
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert "revoked" in cli("tokens", "list").output
    assert cli("tokens", "create", "alice", "--scope", "everything").exit_code == 2


def test_scopes_limit_what_a_token_may_do(client, engine, staff, order, open_task):
    read_only = make_token(engine, "alice", scopes=["read"])
    assert client.get("/api/v1/tasks", headers=read_only).status_code == 200
    assert client.post("/api/v1/processes/order/instances", headers=read_only, json={}).status_code == 403
    instance = engine.start("order", {"customer_name": "ACME"}, by="alice")
    task = open_task(instance.id)
    assert client.post(f"/api/v1/tasks/{task.id}/claim", headers=read_only).status_code == 403
    worker = make_token(engine, "alice", scopes=["read", "work"])
    assert client.post(f"/api/v1/tasks/{task.id}/claim", headers=worker).status_code == 200
    manager = make_token(engine, "root", scopes=["read", "work", "start"])
    assert client.post(f"/api/v1/instances/{instance.id}/cancel", headers=manager, json={}).status_code == 403


def test_a_token_for_some_processes_sees_and_starts_only_those(client, engine, staff, order, signoff):
    order_only = make_token(engine, "root", scopes=["read", "start"], process_keys=["order"])
    assert client.post("/api/v1/processes/signoff/instances", headers=order_only, json={}).status_code == 403
    assert client.post("/api/v1/processes/order/instances", headers=order_only, json={}).status_code == 201
    other = engine.start("signoff", {"client_name": "Umbrella"}, by="root")
    listed = client.get("/api/v1/instances", headers=order_only).json["instances"]
    assert {i["key"] for i in listed} == {"order"}
    hidden = client.get(f"/api/v1/instances/{other.id}", headers=order_only)
    missing = client.get("/api/v1/instances/999999", headers=order_only)
    assert hidden.status_code == missing.status_code == 404
