"""SLA endpoints: a case's clocks and events, escalate now (refer it up its ladder with a reason), and the hold
while it waits on the client (pause) and its release when the client replied (resume)."""

from __future__ import annotations

from engine.errors import InvalidInput
from flask import g, jsonify

from webapp.extensions import get_engine
from webapp.web.api.blueprint import bp
from webapp.web.api.routes import body, in_token_scope
from webapp.web.auth import check_role, require_scope
from webapp.web.views.sla import sla_roles


def _text(data: dict, name: str, default: str = "") -> str:
    value = data.get(name, default)
    if not isinstance(value, str):
        raise InvalidInput(f"`{name}` must be a string")
    return value


def _may_act(instance_id: int) -> dict:
    require_scope("work")
    in_token_scope(instance_id)
    check_role(g.api_user, sla_roles(instance_id))
    return body()


def _sla(instance_id: int):
    engine = get_engine()
    panel = engine.sla_panel(instance_id)
    on_hold = engine.instance_detail(instance_id).data.get("sla_hold")  # only this value of the case data
    return jsonify({"instance_id": instance_id, "on_hold": on_hold,
                    "clocks": [c.as_dict() for c in panel.clocks], "events": [e.as_dict() for e in panel.events]})


@bp.get("/instances/<int(max=2147483647):instance_id>/sla")
def sla(instance_id: int):
    in_token_scope(instance_id)
    get_engine().instance(instance_id)  # an unknown case is 404
    return _sla(instance_id)


@bp.post("/instances/<int(max=2147483647):instance_id>/escalate")
def escalate(instance_id: int):
    data = _may_act(instance_id)
    reason, target = _text(data, "reason"), _text(data, "target", "resolve")
    event = get_engine().escalate_now(instance_id, reason, by=g.api_user.username, target=target)
    return jsonify({"instance_id": instance_id, **event.to_dict()})


@bp.post("/instances/<int(max=2147483647):instance_id>/hold")
def hold(instance_id: int):
    reason = _text(_may_act(instance_id), "reason")
    get_engine().wait_on_client(instance_id, reason, by=g.api_user.username)
    return _sla(instance_id)


@bp.post("/instances/<int(max=2147483647):instance_id>/release")
def release(instance_id: int):
    note = _text(_may_act(instance_id), "note")
    get_engine().client_replied(instance_id, by=g.api_user.username, note=note)
    return _sla(instance_id)
