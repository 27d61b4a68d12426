"""Case work on the case page: internal comments with @mentions, the mail log (copy links, resend a mail)."""

from __future__ import annotations

from engine import privacy
from engine.errors import ClientflowError
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from webapp import signing
from webapp.extensions import get_engine
from webapp.web.access import viewer
from webapp.web.auth import require_login

bp = Blueprint("casework", __name__, url_prefix="/cases")
require_login(bp)


def sees_personal(instance_id: int) -> bool:
    """Whether the signed-in user (or the API token's user) may see the case's personal data (its lanes,
    Compliance, Admin...)."""
    facts, started_by = privacy.instance_privacy(get_engine(), instance_id)
    return privacy.access_basis(viewer()[0], facts, started_by) is not None


def mail_log(instance_id: int) -> list[tuple]:
    """The case's mails with the portal links each one carries, or [] when the user may not see them."""
    if not sees_personal(instance_id):
        return []
    return [(mail, signing.mail_links(mail.template, instance_id, mail.payload))
            for mail in get_engine().mail_log(instance_id)]


def comments(instance_id: int) -> list:
    """The case's comments, or [] when the user may not see the case's personal data."""
    return get_engine().comments(instance_id) if sees_personal(instance_id) else []


@bp.post("/<int(max=2147483647):instance_id>/comments")
def comment(instance_id: int):
    if not sees_personal(instance_id):
        abort(403, description="Only staff who may see this case's personal data may comment on it.")
    try:
        get_engine().add_comment(instance_id, request.form.get("body", ""), by=current_user.username)
    except ClientflowError as err:
        flash(f"The comment was not saved: {err}.", "warning")
    else:
        flash("Comment added.", "success")
    return redirect(url_for("instances.show", instance_id=instance_id) + "#comments-title", 303)


@bp.post("/<int(max=2147483647):instance_id>/mails/<int(max=2147483647):mail_id>/resend")
def resend(instance_id: int, mail_id: int):
    if not sees_personal(instance_id):
        abort(403, description="Only staff who may see this case's personal data may resend its mails.")
    try:
        get_engine().resend_mail(instance_id, mail_id, by=current_user.username)
    except ClientflowError as err:
        flash(f"The mail was not sent again: {err}.", "warning")
    else:
        flash("The mail is queued to be sent again.", "success")
    return redirect(url_for("instances.show", instance_id=instance_id) + "#mail-title", 303)
