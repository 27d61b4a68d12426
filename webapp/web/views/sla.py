"""A case's SLA from its page: escalate now (refer upward with a reason), waiting on the client, client replied."""

from __future__ import annotations

from engine.errors import ClientflowError, NotAllowed
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from webapp.extensions import get_engine
from webapp.web.auth import INSTANCE_MANAGERS, require_login

bp = Blueprint("sla", __name__, url_prefix="/instances")
require_login(bp)


def sla_roles(instance_id: int) -> frozenset[str]:
    """Who may act on a case's SLA: supervisors and managers, and the staff of the lanes its open tasks are in."""
    engine = get_engine()
    engine.instance(instance_id)  # an unknown case is not found, whoever asks
    return INSTANCE_MANAGERS | {t.lane for t in engine.tasks(instance_id=instance_id) if t.lane}


def may_act(user, instance_id: int) -> bool:
    return bool(user.is_admin or user.roles & sla_roles(instance_id))


def _act(instance_id: int, action, done: str):
    if not may_act(current_user.view, instance_id):
        abort(403, description="Only the staff of this case's lane, supervisors and managers may change its SLA.")
    try:
        action(get_engine())
    except NotAllowed:
        raise
    except ClientflowError as err:
        flash(f"Nothing was changed: {err}.", "error")
    else:
        flash(done, "success")
    return redirect(url_for("instances.show", instance_id=instance_id) + "#sla-title", 303)


@bp.post("/<int(max=2147483647):instance_id>/sla/escalate")
def escalate(instance_id: int):
    reason, target = request.form.get("reason", ""), request.form.get("target") or "resolve"
    return _act(instance_id, lambda e: e.escalate_now(instance_id, reason, by=current_user.username, target=target),
                "The case was referred to the next level.")


@bp.post("/<int(max=2147483647):instance_id>/sla/hold")
def hold(instance_id: int):
    reason = request.form.get("reason", "")
    return _act(instance_id, lambda e: e.wait_on_client(instance_id, reason, by=current_user.username),
                "The case is waiting on the client: its SLA clocks are paused.")


@bp.post("/<int(max=2147483647):instance_id>/sla/release")
def release(instance_id: int):
    note = request.form.get("note", "")
    return _act(instance_id, lambda e: e.client_replied(instance_id, by=current_user.username, note=note),
                "The client replied: the SLA clocks run again.")
