"""Clients are not a staff role: no account holds `Client`, and client credentials read no other client's case."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from engine.core.db.models import Role, User, UserRole
from engine.core.users import save_user
from engine.errors import InvalidInput
from tests.support import PASSWORD, bearer_headers, client_signed_in
from webapp.cli.demo import DEMO_INSTANCES, seed_demo

COMPLAINTS = [d.data for d in DEMO_INSTANCES if d.key == "complaint_handling"]


def grant_client_role_directly(engine, username: str) -> None:
    """An account as it could be before the fix: the `Client` role written straight into the tables."""
    with engine.write_session.begin() as session:
        if session.get(Role, "Client") is None:
            session.add(Role(name="Client"))
            session.flush()
        user_id = session.scalar(select(User.id).where(User.username == username))
        session.execute(insert(UserRole).values(user_id=user_id, role_name="Client"))


def test_no_account_may_hold_the_client_role(engine, signed_in, staff, cli):
    with pytest.raises(InvalidInput, match="not a staff role"), engine.write_session.begin() as session:
        save_user(session, "ana", ["Client"], password=PASSWORD)
    response = signed_in("root").post("/admin/users/new", data={"username": "ana", "roles": "Client"})
    assert response.status_code == 422 and "not a staff role" in response.get_data(as_text=True)
    result = cli("users", "add", "ana", "--role", "Client")
    assert result.exit_code != 0 and "not a staff role" in result.output


def test_client_credentials_read_no_other_clients_case_by_any_route(app, engine, shipped, staff, make_user, text):
    ana, sipho = (engine.start("complaint_handling", dict(data), by="root") for data in COMPLAINTS[:2])
    make_user("ana", email="ana.lima@example.com")
    grant_client_role_directly(engine, "ana")
    assert engine.user("ana").roles == frozenset()  # the role grants nothing any more
    api, web = bearer_headers(engine, "ana"), client_signed_in(app, "ana")
    # API: list, detail, search
    listed = app.test_client().get("/api/v1/instances", headers=api).json["instances"]
    assert {i["label"] for i in listed} == {"[restricted]"}
    detail = app.test_client().get(f"/api/v1/instances/{sipho.id}", headers=api).json
    assert "sipho@example.com" not in str(detail) and "Sipho" not in str(detail)
    assert app.test_client().get("/api/v1/instances?q=Sipho", headers=api).json["instances"] == []
    # UI: list, detail, search, overview
    assert "Sipho" not in text(web.get("/instances/")) and "Sipho" not in text(web.get("/"))
    page = text(web.get(f"/instances/{sipho.id}"))
    assert "sipho@example.com" not in page and "Sipho" not in page
    assert sipho.reference not in text(web.get("/instances/?q=Sipho"))
    # Exports (subject access bundles) are for the privacy roles only
    assert web.get("/privacy/subjects").status_code == 403
    assert web.post("/privacy/subjects/export", data={"q": "sipho@example.com", "reason": "SAR-1"}).status_code == 403
    assert ana.reference


def test_the_portal_shows_a_case_only_for_its_own_reference_and_email(client, engine, shipped, staff, text):
    ana, sipho = (engine.start("complaint_handling", dict(data), by="root") for data in COMPLAINTS[:2])
    own = client.post("/portal/track", data={"reference": ana.reference, "email": "ana.lima@example.com"})
    assert own.status_code == 200
    other = client.post("/portal/track", data={"reference": sipho.reference, "email": "ana.lima@example.com"})
    missing = client.post("/portal/track", data={"reference": "CMP-2026-999999", "email": "ana.lima@example.com"})
    assert other.status_code == missing.status_code == 404
    assert text(other).replace(sipho.reference, "X") == text(missing).replace("CMP-2026-999999", "X")


def test_the_demo_creates_no_client_account(engine, app):
    summary = seed_demo(engine, app.config["PROCESSES_DIR"])
    assert "client" not in summary.users
    assert all("Client" not in roles for roles, _ in summary.users.values())
    assert all(len(password) >= 12 for _, password in summary.users.values())
