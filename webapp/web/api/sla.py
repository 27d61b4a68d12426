"""SLA endpoints: escalate a case now (refer it up its SLA ladder with a reason)."""

from __future__ import annotations

from engine.errors import InvalidInput
from flask import g, jsonify

from webapp.extensions import get_engine
from webapp.web.api.blueprint import bp
from webapp.web.api.routes import body, in_token_scope
from webapp.web.auth import check_role, require_scope
from webapp.web.views.sla import sla_roles


@bp.post("/instances/<int(max=2147483647):instance_id>/escalate")
def escalate(instance_id: int):
    require_scope("work")
    in_token_scope(instance_id)
    check_role(g.api_user, sla_roles(instance_id))
    data = body()
    reason, target = data.get("reason", ""), data.get("target", "resolve")
    if not isinstance(reason, str) or not isinstance(target, str):
        raise InvalidInput("`reason` and `target` must be strings")
    event = get_engine().escalate_now(instance_id, reason, by=g.api_user.username, target=target)
    return jsonify({"instance_id": instance_id, **event.to_dict()})
