"""One task: its page, its form, claim / unclaim / complete."""

from __future__ import annotations

from engine.errors import (
    ClientflowError,
    ConcurrentUpdate,
    InstanceNotRunning,
    InvalidTaskData,
    NotAllowed,
    TaskNotFound,
    TaskNotReady,
)
from engine.forms.builder import form_json
from engine.results import TaskView
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import MultiDict

from webapp.extensions import get_engine
from webapp.web.access import log_access
from webapp.web.auth import require_login
from webapp.web.views import documents, task_drafts
from webapp.web.views.forms import ActionForm, DecisionForm, JsonDataForm
from webapp.web.views.inbox import due_window

bp = Blueprint("tasks", __name__, url_prefix="/tasks")
bp.before_request(task_drafts.keep_answers_when_signed_out)  # before the sign-in check below
require_login(bp)
bp.register_error_handler(CSRFError, task_drafts.keep_answers_on_csrf_error)

COMPLIANCE_LANE = "Compliance Officer"
GONE = ("This task is no longer open: it was completed (perhaps by a colleague, or by a second click). "
        "Nothing was changed.")
CHANGED = ("This case changed while you were working on it (a colleague or a timer acted on it). Nothing was saved: "
           "check the case below and submit again.")

RACED = "Someone acted on this case at the same moment, so nothing was changed. Please try again."


def get_task_or_404(task_id: str) -> TaskView:
    """The open task, if the signed-in user may work in or supervises its lane (404 / 403 otherwise)."""
    task = get_engine().task(task_id)
    if not current_user.view.may_work_in(task.lane) and not get_engine().supervises(current_user.username, task.lane):
        abort(403, description=f"This task belongs to the {task.lane} lane, and you do not have that role.")
    return task


def _gone():
    flash(GONE, "warning")
    return redirect(url_for("inbox.index"), 303)


def build_form(task: TaskView, formdata: MultiDict | None = None):
    """The task's form: built by the engine from its schema, or a decision / JSON form when there is none."""
    form_class, initial = get_engine().task_form(task.id)
    if form_class is None:
        form_class = DecisionForm if task.lane == COMPLIANCE_LANE else JsonDataForm
        initial = {}
    return form_class(formdata=formdata, data=initial or {})


def task_data(form) -> dict:
    """A validated form's values as the JSON the engine takes (the engine validates them again)."""
    return form.task_data() if hasattr(form, "task_data") else form_json(form)


def attach_errors(form, errors: dict[str, list[str]]) -> list[str]:
    """Put the engine's field errors (dotted paths for nested groups) on the form; returns those no field shows."""
    general = []
    for path, messages in errors.items():
        target = form
        *groups, name = path.split(".")
        for group in groups:
            target = target[group].form if group in target._fields and hasattr(target[group], "form") else None
            if target is None:
                break
        if target is not None and name in target._fields:
            target[name].errors = list(target[name].errors or []) + list(messages)
        else:
            general.extend(messages if path == "__all__" else [f"{path}: {m}" for m in messages])
    return general


def validate(form) -> bool:
    """WTForms validation, except that a nested group left wholly empty is not checked here: whether it may be
    empty is the engine's call (an optional group may be; a required one comes back as an engine field error)."""
    valid = form.validate()
    for field in form:
        if field.type == "FormField" and field.errors and _empty(field):
            for sub in field:
                sub.errors = []
    return valid or not any(field.errors for field in form)


def _empty(group) -> bool:
    return all(not any(v.strip() for v in (sub.raw_data or []) if isinstance(v, str)) for sub in group)


def render_task(task: TaskView, form, status: int = 200, problems: list[str] | None = None,
                version: int | None = None, draft=None):
    """The task page; `version` is the instance version the form was filled in against (kept across errors)."""
    engine = get_engine()
    instance = engine.instance(task.instance_id)
    compliance = task.lane == COMPLIANCE_LANE
    context = engine.task_context(task.id)
    log_access("task", task=task, context=context)
    now, soon = due_window()
    supervisor = engine.supervises(current_user.username, task.lane)
    manages = supervisor or task.claimed_by == current_user.username
    return render_template("tasks/task.html", task=task, form=form, instance=instance, context=context,
                           labels=engine.labels(task.instance_id),
                           supervisor=supervisor, may_work=current_user.view.may_work_in(task.lane),
                           assignees=engine.assignable_users([task.lane]) if manages else [],
                           compliance=compliance, problems=problems or [], now=now, soon=soon,
                           version=instance.lock_version if version is None else version,
                           claimed_by_other=bool(task.claimed_by and task.claimed_by != current_user.username),
                           draft=draft, draft_owner=task_drafts.owner_token(task.id),
                           action_form=ActionForm(), upload_fields=documents.upload_fields(task),
                           case_documents=documents.case_documents(task.instance_id),
                           may_attach=documents.sees_personal(task.instance_id),
                           upload_help=documents.upload_help, accept=engine.documents.policy.accept), status


@bp.get("/<task_id>")
def show(task_id: str):
    task = get_task_or_404(task_id)
    formdata, draft = task_drafts.draft_form_data(task.id)
    return render_task(task, build_form(task, formdata), draft=draft)


@bp.post("/<task_id>")
def complete(task_id: str):
    engine = get_engine()
    try:
        task = get_task_or_404(task_id)
    except TaskNotFound:
        return _gone()
    version = request.form.get("expected_version", type=int)
    if request.form.get("action") == "draft":
        return save_draft(task)
    formdata, upload_problems = documents.with_uploads(task)  # files stored first; their fields hold references
    form = build_form(task, formdata)
    if upload_problems:
        validate(form)
        return render_task(task, form, 422, upload_problems, version=version)
    if not validate(form):
        return render_task(task, form, 422, version=version)
    try:
        engine.complete(task.id, task_data(form), by=current_user.username, expected_version=version)
    except InvalidTaskData as err:
        return render_task(task, form, 422, attach_errors(form, err.errors), version=version)
    except NotAllowed as err:
        return render_task(task, form, 403, [f"You cannot complete this task: {err}."], version=version)
    except (TaskNotFound, TaskNotReady, InstanceNotRunning):
        return _gone()
    except ConcurrentUpdate:
        return _changed(task, form)
    engine.discard_task_drafts(task.id)
    flash(f"Done: “{task.name}” for {task.reference or f'case {task.instance_id}'}.", "success")
    return redirect(url_for("inbox.index"), 303)


def save_draft(task: TaskView):
    """Keep the answers typed so far without checking them (and the files attached); the task page opens with
    them next time."""
    for problem in documents.attach_files(task):
        flash(problem, "warning")
    try:
        get_engine().save_task_draft(current_user.username, task.id, task_drafts.answers(request.form), "draft")
    except ClientflowError as err:
        flash(f"The draft was not saved: {err}.", "warning")
    else:
        flash("Draft saved: your answers will be here when you come back.", "success")
    return redirect(url_for("tasks.show", task_id=task.id), 303)


def _changed(task: TaskView, form):
    try:
        task = get_engine().task(task.id)
    except TaskNotFound:
        return _gone()
    return render_task(task, form, 409, [CHANGED])


@bp.post("/<task_id>/claim")
def claim(task_id: str):
    try:
        task = get_task_or_404(task_id)
        if task.claimed_by and task.claimed_by != current_user.username:
            flash(f"“{task.name}” was claimed by {task.claimed_by} already.", "warning")
            return redirect(url_for("inbox.index", view="group"), 303)
        get_engine().claim(task.id, current_user.username)
    except (TaskNotFound, TaskNotReady, InstanceNotRunning):
        return _gone()
    except ConcurrentUpdate:
        flash(RACED, "warning")
        return redirect(url_for("inbox.index", view="group"), 303)
    flash(f"You claimed “{task.name}”.", "success")
    return redirect(url_for("tasks.show", task_id=task.id), 303)


@bp.post("/<task_id>/unclaim")
def unclaim(task_id: str):
    try:
        task = get_task_or_404(task_id)
        get_engine().unclaim(task.id, current_user.username)
    except (TaskNotFound, InstanceNotRunning):
        return _gone()
    except ConcurrentUpdate:
        flash(RACED, "warning")
    except TaskNotReady:
        flash(f"“{task.name}” was not claimed.", "info")
    else:
        flash(f"“{task.name}” is back in the group tasks.", "success")
    return redirect(url_for("inbox.index"), 303)


@bp.post("/<task_id>/assign")
def assign(task_id: str):
    """Assign, reassign or delegate the task to `assignee`, or release it when that is blank."""
    assignee = (request.form.get("assignee") or "").strip() or None
    try:
        get_task_or_404(task_id)
        task = get_engine().assign(task_id, assignee, by=current_user.username)
    except (TaskNotFound, InstanceNotRunning):
        return _gone()
    except ConcurrentUpdate:
        flash(RACED, "warning")
    except ClientflowError as err:
        flash(f"Nothing was changed: {err}.", "warning")
    else:
        flash(f"“{task.name}” is now with {assignee}." if assignee else f"“{task.name}” is back in the group tasks.",
              "success")
        if task.claimed_by != current_user.username and not get_engine().supervises(current_user.username, task.lane):
            return redirect(url_for("inbox.index"), 303)
    return redirect(url_for("tasks.show", task_id=task_id), 303)
