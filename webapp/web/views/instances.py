"""Process instances: search, detail with the live diagram and audit trail, start, cancel and retry."""

from __future__ import annotations

from engine.errors import InvalidTaskData
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.extensions import get_engine
from webapp.web.access import log_access, redacted, search_instances
from webapp.web.auth import INSTANCE_MANAGERS, require_login, role_required
from webapp.web.notice import notice_for, responsible_party
from webapp.web.views.casework import comments, mail_log, sees_personal
from webapp.web.views.documents import case_documents, upload_help
from webapp.web.views.forms import ActionForm, CancelForm
from webapp.web.views.inbox import due_window, page_args
from webapp.web.views.sla import may_act
from webapp.web.views.tasks import attach_errors, task_data, validate
from webapp.web.views.wording import latest_processes

bp = Blueprint("instances", __name__)
require_login(bp)

STATUSES = ("running", "error", "completed", "cancelled")


def diagram_files(key: str, version: int) -> dict[str, str]:
    """The BPMN files of a deployed version, the process's own file first."""
    files = get_engine().definition_files(key, version)
    names = sorted((n for n in files if n.endswith(".bpmn")), key=lambda n: (n != f"{key}.bpmn", n))
    return {name: files[name] for name in names}


def diagram_state(detail) -> dict:
    """What the viewer marks: completed and current elements, waiting timers, the failed step, gateway choices."""
    gateways: dict[str, set[str]] = {}
    for event in detail.events:
        if event.kind == "gateway_taken" and event.element_id:
            gateways.setdefault(event.element_id, set()).update(event.detail.get("taken") or [])
    failed = [e.element_id for e in detail.events if e.kind == "error" and e.element_id][-1:]
    return {"completed": detail.completed_elements, "active": detail.active_elements,
            "timers": sorted({t.element_id for t in detail.timers if t.pending}),
            "error": failed if detail.instance.status == "error" else [],
            "gateways": {gateway: sorted(taken) for gateway, taken in gateways.items()}}


@bp.get("/instances/")
def index():
    key = request.args.get("process") or None
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    text = (request.args.get("q") or "").strip() or None
    page, size, offset = page_args()
    rows = search_instances(key=key, status=status, text=text, limit=size + 1, offset=offset)
    return render_template("instances/index.html", instances=rows[:size], has_next=len(rows) > size, page=page,
                           process=key, status=status, q=text or "", statuses=STATUSES,
                           processes=latest_processes())


@bp.get("/instances/<int(max=2147483647):instance_id>")
def show(instance_id: int):
    detail = redacted(get_engine().instance_detail(instance_id))
    log_access("instance", instance_id=instance_id)
    files = list(diagram_files(detail.instance.key, detail.instance.version))
    now, soon = due_window()
    diagram = diagram_state(detail)
    return render_template("instances/show.html", detail=detail, i=detail.instance, files=files, diagram=diagram,
                           now=now, soon=soon, cancel_form=CancelForm(), action_form=ActionForm(),
                           may_manage=current_user.may_manage_instances,
                           mails=mail_log(instance_id), comments=comments(instance_id),
                           may_comment=sees_personal(instance_id), names=get_engine().element_names(instance_id),
                           case_files=case_documents(instance_id), upload_help=upload_help,
                           accept=get_engine().documents.policy.accept,
                           labels=get_engine().labels(instance_id),
                           sla=get_engine().sla_panel(instance_id), on_hold=detail.data.get("sla_hold"),
                           may_act_sla=detail.instance.status == "running" and may_act(current_user.view, instance_id),
                           fields=get_engine().correctable_fields(instance_id)
                           if current_user.may_manage_instances and detail.instance.status in ("running", "error")
                           else [])


@bp.get("/instances/<int(max=2147483647):instance_id>/diagram.bpmn")
def diagram(instance_id: int):
    instance = get_engine().instance(instance_id)
    return diagram_response(diagram_files(instance.key, instance.version))


def diagram_response(files: dict[str, str]) -> Response:
    """The BPMN file the `file` argument names (default: the process's own), as XML."""
    name = request.args.get("file") or next(iter(files), None)
    if name not in files:
        abort(404, description="This process version has no such diagram.")
    return Response(files[name], mimetype="application/xml", headers={"Cache-Control": "private, max-age=3600"})


@bp.post("/instances/<int(max=2147483647):instance_id>/cancel")
@role_required(*INSTANCE_MANAGERS)
def cancel(instance_id: int):
    form = CancelForm()
    if not form.validate():
        flash("Give a reason to cancel the instance.", "error")
        return redirect(url_for("instances.show", instance_id=instance_id), 303)
    get_engine().cancel(instance_id, by=current_user.username, reason=form.reason.data.strip())
    flash("The instance was cancelled.", "success")
    return redirect(url_for("instances.show", instance_id=instance_id), 303)


@bp.post("/instances/<int(max=2147483647):instance_id>/retry")
@role_required(*INSTANCE_MANAGERS)
def retry(instance_id: int):
    instance = get_engine().retry(instance_id, by=current_user.username)
    if instance.status == "error":
        flash(f"The retry failed again: {instance.error}", "error")
    else:
        flash("The failed step was run again.", "success")
    return redirect(url_for("instances.show", instance_id=instance_id), 303)


@bp.route("/processes/<key>/start", methods=["GET", "POST"])
def start(key: str):
    engine = get_engine()
    form_class, initial = engine.start_form(key)
    form = (form_class or ActionForm)(formdata=request.form if request.method == "POST" else None, data=initial)
    problems: list[str] = []
    if request.method == "POST" and validate(form):
        try:
            instance = engine.start(key, task_data(form) if form_class else {}, by=current_user.username)
        except InvalidTaskData as err:
            problems = attach_errors(form, err.errors)
        else:
            return _after_start(instance)
    process = next((p for p in engine.processes() if p.key == key), None)
    status = 422 if form.errors or problems else 200
    return render_template("instances/start.html", form=form, process=process, key=key, problems=problems,
                           has_fields=form_class is not None, notice=notice_for(key),
                           responsible_party=responsible_party()), status


def _after_start(instance):
    """Straight to the new instance's first task when it is mine to do, else to the instance."""
    mine = [t for t in get_engine().tasks(instance_id=instance.id) if current_user.view.may_work_in(t.lane)]
    flash(f"Started {instance.reference or f'case {instance.id}'}.", "success")
    if len(mine) == 1:
        return redirect(url_for("tasks.show", task_id=mine[0].id), 303)
    return redirect(url_for("instances.show", instance_id=instance.id), 303)
