"""The operations console (managers and admins): incidents with retry and cancel, one by one or in bulk,
corrections of a running case's data, and the outbox of failed mails with resend."""

from __future__ import annotations

from engine.errors import ClientflowError, InvalidInput, InvalidTaskData, ProcessNotFound
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.extensions import get_engine
from webapp.web.access import redacted_list
from webapp.web.auth import require_login
from webapp.web.views.casework import sees_personal
from webapp.web.views.forms import ActionForm
from webapp.web.views.inbox import page_args
from webapp.web.views.instances import diagram_files, diagram_response
from webapp.web.views.wording import latest_processes

bp = Blueprint("operations", __name__, url_prefix="/operations")
require_login(bp)
MAX_BULK = 200


@bp.before_request
def managers_only():
    if not current_user.may_manage_instances:
        abort(403, description="The operations console is for managers, supervisors and administrators.")


@bp.get("/")
def incidents():
    page, size, offset = page_args()
    found, total = get_engine().incidents(limit=size, offset=offset)
    views = {v.id: v for v in redacted_list([i.instance for i in found])}
    return render_template("operations/incidents.html", incidents=found, views=views, total=total, page=page,
                           has_next=offset + len(found) < total, action_form=ActionForm(),
                           processes=latest_processes())


@bp.post("/incidents")
def act_on_incidents():
    action, reason = request.form.get("action"), (request.form.get("reason") or "").strip()
    ids = [int(i) for i in request.form.getlist("instance") if i.isdigit() and len(i) < 10][:MAX_BULK]
    if action not in ("retry", "cancel") or not ids or (action == "cancel" and not reason):
        flash("Choose one or more incidents and an action (a cancel needs a reason); nothing was changed.", "warning")
        return redirect(url_for("operations.incidents"), 303)
    engine, fixed, failed = get_engine(), 0, []
    for instance_id in ids:
        try:
            if action == "retry":
                outcome = engine.retry(instance_id, by=current_user.username)
            else:
                outcome = engine.cancel(instance_id, by=current_user.username, reason=reason)
        except ClientflowError as err:
            failed.append(f"#{instance_id}: {err}")
            continue
        if outcome.status == "error":
            failed.append(f"{outcome.reference or f'#{instance_id}'} failed again: {outcome.error}")
        else:
            fixed += 1
    flash(f"{fixed} incident{'s' if fixed != 1 else ''} {'retried' if action == 'retry' else 'cancelled'}.",
          "success" if fixed else "info")
    if failed:
        flash("Not resolved: " + "; ".join(failed), "warning")
    return redirect(url_for("operations.incidents"), 303)


@bp.get("/outbox")
def outbox():
    page, size, offset = page_args()
    found, total = get_engine().failed_mails(limit=size, offset=offset)
    # The address and the case's client are shown only to those who may see the case's personal data.
    visible = {case: sees_personal(case) for case in {f.instance_id for f in found} if case is not None}
    return render_template("operations/outbox.html", failures=found, visible=visible, total=total, page=page,
                           has_next=offset + len(found) < total)


@bp.post("/outbox/<int(max=2147483647):mail_id>/resend")
def resend_failed(mail_id: int):
    instance_id = request.form.get("instance", type=int)
    try:
        if instance_id is None:
            raise InvalidInput("this mail has no case any more (erased or deleted), so it cannot be sent again")
        get_engine().resend_mail(instance_id, mail_id, by=current_user.username)
    except ClientflowError as err:
        flash(f"Mail #{mail_id} was not sent again: {err}.", "warning")
    else:
        flash(f"Mail #{mail_id} is queued to be sent again.", "success")
    return redirect(url_for("operations.outbox"), 303)


@bp.get("/processes/<key>")
def process(key: str):
    """A process version's diagram with, on each element, how many open cases wait there or failed there."""
    engine = get_engine()
    versions = [p.version for p in engine.processes(all_versions=True) if p.key == key]
    version = request.args.get("version", type=int) or (versions[-1] if versions else None)
    if version not in versions:
        abort(404, description=f"There is no process {key!r}" + (f" version {version}." if versions else "."))
    return render_template("operations/process.html", key=key, version=version, versions=versions,
                           counts=engine.element_counts(key, version), files=list(diagram_files(key, version)))


@bp.get("/processes/<key>/<int(max=2147483647):version>/diagram.bpmn")
def process_diagram(key: str, version: int):
    try:
        return diagram_response(diagram_files(key, version))
    except ProcessNotFound:
        abort(404, description="There is no such process version.")


@bp.post("/instances/<int(max=2147483647):instance_id>/variable")
def correct_variable(instance_id: int):
    form = request.form
    try:
        get_engine().correct_variable(instance_id, form.get("name", "").strip(), form.get("value", ""),
                                      form.get("reason", ""), by=current_user.username)
    except InvalidTaskData as err:
        flash("Nothing was changed: " + "; ".join(m for msgs in err.errors.values() for m in msgs), "warning")
    except ClientflowError as err:
        flash(f"Nothing was changed: {err}.", "warning")
    else:
        flash(f"“{form.get('name', '').strip()}” was changed; the reason is in the audit trail.", "success")
    return redirect(url_for("instances.show", instance_id=instance_id) + "#correct-title", 303)
