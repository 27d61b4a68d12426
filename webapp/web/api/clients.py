"""Client-record endpoints: search, read with cases and agreed SLA, create, correct, link a case."""

from __future__ import annotations

from engine.errors import ClientNotFound, InvalidInput
from flask import g, jsonify, request

from webapp.extensions import get_engine
from webapp.web.access import log_access
from webapp.web.api.blueprint import bp
from webapp.web.api.openapi import MAX_ID
from webapp.web.api.routes import body, page
from webapp.web.auth import check_role, require_scope
from webapp.web.views.clients import CLIENT_STAFF


def _staff() -> None:
    check_role(g.api_user, frozenset(CLIENT_STAFF))


def _client_json(client_id: int) -> dict:
    engine = get_engine()
    cases = engine.clients.cases(client_id)
    sla = engine.clients.agreed_sla(client_id)
    return {**engine.clients.get(client_id).as_dict(), "cases": [c.as_dict() for c in cases],
            "sla": {"response_hours": sla.response_hours, "resolution_days": sla.resolution_days}}


@bp.get("/clients")
def clients():
    _staff()
    rows = get_engine().clients.search((request.args.get("q") or "").strip() or None, **page())
    return jsonify({"clients": [c.as_dict() for c in rows]})


@bp.post("/clients")
def create_client():
    require_scope("work")
    _staff()
    return jsonify(get_engine().clients.create(body(), by=g.api_user.username).as_dict()), 201


@bp.get("/clients/<int(max=2147483647):client_id>")
def client(client_id: int):
    _staff()
    found = _client_json(client_id)
    log_access("view_client", subjects=[c["instance_id"] for c in found["cases"]], why=f"client record {client_id}")
    return jsonify(found)


@bp.patch("/clients/<int:client_id>")
def correct_client(client_id: int):
    # (an id over the column's range is a 404 here: a converter limit would make werkzeug answer 405 for PATCH)
    if client_id > MAX_ID:
        raise ClientNotFound(f"no client record with id {client_id}")
    require_scope("work")
    _staff()
    return jsonify(get_engine().clients.correct(client_id, body(), by=g.api_user.username).as_dict())


@bp.post("/clients/<int(max=2147483647):client_id>/cases")
def link_client_case(client_id: int):
    require_scope("work")
    _staff()
    reference = body().get("reference")
    if not isinstance(reference, str) or not reference.strip():
        raise InvalidInput("`reference` must be a case reference, e.g. CMP-2026-000123")
    engine = get_engine()
    engine.clients.link(engine.instance_by_reference(reference.strip().upper()).id, client_id,
                        by=g.api_user.username)
    return jsonify(_client_json(client_id))
