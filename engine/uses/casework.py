"""Use cases of staff at work: the inbox, team view and assignment, incidents, comments, drafts, saved views."""

from __future__ import annotations

from typing import Any

from engine.casework import assignment, incidents, saved_views
from engine.casework import comments as case_comments
from engine.casework import drafts as task_drafts
from engine.casework import element_counts as counts
from engine.casework import inbox as inbox_query
from engine.casework import mail_log as case_mail
from engine.core import definitions, tasks
from engine.core.users import get_user
from engine.forms.labels import Labels, labels_of
from engine.results import InstanceView, TaskView


class CaseworkUses:
    """The staff workspace's use cases (engine/casework); mixed into `Engine`."""

    # -- case work: team view, assignment, inbox search and saved views (engine/casework) ----------------------
    def inbox(self, user: str, query: inbox_query.InboxQuery, limit: int | None = None,
              offset: int = 0) -> list[TaskView]:
        """The open tasks an inbox page lists for `user`: searched, filtered and sorted as `query` says."""
        with self.sql_engine.connect() as conn:
            viewer = get_user(conn, user)
            stmt = inbox_query.statement(query, viewer, self.supervision.scope(viewer))
            if limit is not None:
                stmt = stmt.limit(limit).offset(offset)
            rows = conn.execute(stmt).all()
        return [tasks.view(row, self._cached_model(row.definition_id)) for row in rows]

    def supervises(self, username: str, lane: str | None = None) -> bool:
        """Whether the user supervises `lane` (without a lane: any lane with open tasks)."""
        with self.sql_engine.connect() as conn:
            user = get_user(conn, username)
            if lane is not None:
                return self.supervision.supervises(user, lane)
            return inbox_query.supervises_any(conn, self.supervision.scope(user))

    def assign(self, task_id: str, assignee: str | None, by: str) -> TaskView:
        """Assign, reassign, delegate or release (None) an open task; audited and mailed to the new holder."""
        return assignment.assign(self.services, self.supervision, task_id, assignee, by)

    def assignable_users(self, lanes: list[str | None]) -> list[tuple[str, str]]:
        """(username, display name) of the active users who may work in all of `lanes`."""
        with self.sql_engine.connect() as conn:
            return assignment.candidates(conn, lanes)

    def incidents(self, limit: int = 50, offset: int = 0) -> tuple[list[incidents.Incident], int]:
        """Instances stopped in error (newest failure first) with the failing element, and their total."""
        return incidents.incidents(self.services, limit, offset)

    def correct_variable(self, instance_id: int, name: str, value: Any, reason: str, by: str) -> InstanceView:
        """Set one form field of a running or failed instance, validated by the field's schema; audited."""
        return incidents.correct_variable(self.services, self.forms, instance_id, name, value, self.user(by), reason)

    def element_names(self, instance_id: int) -> dict[str, str]:
        """Element id -> BPMN name for the instance's process version (audit trails show names, not ids)."""
        return incidents.element_names(self.services, instance_id)

    def labels(self, instance_id: int) -> Labels:
        """Field titles and option labels of the instance's process version: pages show labels, not codes."""
        return labels_of(incidents.model_of(self.services, instance_id))

    def element_counts(self, key: str, version: int | None = None) -> counts.ElementCounts:
        """Per element of a process version (default: the latest), its open cases waiting there or failed there."""
        with self.read_session() as session:
            row = definitions.get_version(session, key, version or definitions.latest(session, key).version)
            definition_id, version = row.id, row.version
            names = incidents.names_of(definitions.model_for(self.services, session, definition_id))
        with self.sql_engine.connect() as conn:
            return counts.element_counts(conn, key, version, definition_id, names)

    def process_labels(self, key: str) -> Labels:
        """Field titles and option labels of the latest version of a process (for reports across cases)."""
        with self.read_session() as session:
            return labels_of(definitions.model_for(self.services, session, definitions.latest(session, key).id))

    def correctable_fields(self, instance_id: int) -> list[tuple[str, str]]:
        """(name, title) of the form fields of an instance's process: the variables a manager may correct."""
        return incidents.correctable_fields(self.services, instance_id)

    def mail_log(self, instance_id: int) -> list[case_mail.MailEntry]:
        """The mails a case queued (status, attempts, times), newest first."""
        with self.sql_engine.connect() as conn:
            return case_mail.mails_of(conn, instance_id)

    def failed_mails(self, limit: int = 50, offset: int = 0) -> tuple[list[case_mail.FailedMail], int]:
        """Mails that failed, or wait to retry after an error, across cases (newest first), and their total."""
        with self.sql_engine.connect() as conn:
            return case_mail.failures(conn, limit, offset)

    def resend_mail(self, instance_id: int, notification_id: int, by: str) -> int:
        """Queue one of a case's mails again (rate-limited, audited); returns the new outbox row's id."""
        return case_mail.resend(self.services, instance_id, notification_id, self.user(by))

    def comments(self, instance_id: int) -> list[case_comments.Comment]:
        """A case's internal comments, oldest first."""
        with self.sql_engine.connect() as conn:
            return case_comments.of_case(conn, instance_id)

    def add_comment(self, instance_id: int, body: str, by: str) -> case_comments.Comment:
        """Add an internal comment to a case; each @mentioned colleague gets a mail (without the comment's text)."""
        return case_comments.add(self.services, instance_id, body, self.user(by))

    def save_task_draft(self, username: str, task_id: str, answers: dict[str, list[str]],
                        reason: str = "draft") -> task_drafts.Draft:
        """Keep a user's typed answers for an open task (`reason`: "draft", or "expired" for a lost session)."""
        with self.write_session.begin() as session:
            return task_drafts.save(session, username, task_id, answers, reason, self.clock.now())

    def task_draft(self, username: str, task_id: str) -> task_drafts.Draft | None:
        with self.read_session() as session:
            return task_drafts.get(session, username, task_id)

    def discard_task_drafts(self, task_id: str, username: str | None = None) -> None:
        with self.write_session.begin() as session:
            task_drafts.discard(session, task_id, username)

    def saved_views(self, username: str) -> list[saved_views.View]:
        with self.read_session() as session:
            return saved_views.of_user(session, username)

    def save_view(self, username: str, name: str, params: dict[str, Any]) -> saved_views.View:
        with self.write_session.begin() as session:
            return saved_views.save(session, username, name, params, self.clock.now())

    def delete_view(self, username: str, view_id: int) -> None:
        with self.write_session.begin() as session:
            saved_views.remove(session, username, view_id)
