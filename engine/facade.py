"""The engine facade: one object wiring sessions, clock, spec cache and sandbox; plain results out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine as SqlEngine

from engine.camunda.feature import Camunda
from engine.casework import assignment, incidents, saved_views
from engine.casework import comments as case_comments
from engine.casework import drafts as task_drafts
from engine.casework import inbox as inbox_query
from engine.casework import mail_log as case_mail
from engine.casework.supervision import Supervision
from engine.clients import ClientService, ConsentGate
from engine.clock import Clock
from engine.core import actions, audit, definitions, migration, outbox, reads, tasks, timers, unit_of_work
from engine.core.archive import check_files
from engine.core.bundle import is_bpmn, read_bundle, top_process_ids
from engine.core.db.models import ProcessInstance
from engine.core.dialects import dialects_of
from engine.core.hooks import hooks_of
from engine.core.model_checks import valid_key
from engine.core.sandbox import SandboxLimits
from engine.core.services import MAX_STATE_BYTES, Services
from engine.core.users import SYSTEM_USER, UserView, get_user
from engine.errors import InstanceNotFound, InvalidModel
from engine.forms.service import FormService
from engine.handoffs import Handoffs
from engine.results import DeployResult, InstanceDetail, InstanceView, ProcessView, TaskView, TimerView
from engine.sla import actions as sla_actions
from engine.sla import agreements as sla_agreements
from engine.sla.service import SlaService
from engine.studio import diff as bundle_diff
from engine.studio import drafts as studio_drafts
from engine.studio import lint

SaveListener = Callable[[list[unit_of_work.SaveResult]], None]


class Engine:
    """Everything the web app, the CLI and the workers need from the workflow core."""

    def __init__(self, sql_engine: SqlEngine, *, clock: Clock | None = None, form_dirs: list[Path] | None = None,
                 script_time_limit: float = 1.0, script_memory_mb: int = 256, script_wall_seconds: float = 2.0,
                 sandbox_processes: int = 2, max_state_bytes: int = MAX_STATE_BYTES,
                 max_variable_bytes: int = 256 * 1024, live_cache_size: int = 256,
                 lane_supervisors: dict[str, list[str]] | None = None, check_state: bool = False):
        """`script_*` and `sandbox_processes` bound each script run (docs/sandbox.md); `max_state_bytes` bounds an
        instance's saved state and `max_variable_bytes` one value given by a form or the API; `check_state` compares
        every saved state with a full SpiffWorkflow serialization (tests)."""
        self.forms = FormService()
        self.supervision = Supervision.of(lane_supervisors)  # who sees a lane's team view (engine/casework)
        limits = SandboxLimits(cpu_seconds=script_time_limit, memory_mb=script_memory_mb,
                               wall_seconds=max(script_wall_seconds, script_time_limit), pool_size=sandbox_processes)
        self.services = Services(sql_engine, self.forms, clock=clock, form_dirs=form_dirs, sandbox_limits=limits,
                                 live_cache_size=live_cache_size, max_state_bytes=max_state_bytes,
                                 max_variable_bytes=max_variable_bytes, check_state=check_state)
        services = self.services
        # The same objects under the names callers (web app, worker, CLI, tests) have always used.
        self.sql_engine, self.clock, self.form_dirs = sql_engine, services.clock, services.form_dirs
        self.write_session, self.read_session = services.write_session, services.read_session
        self.models, self.live, self.serializer = services.models, services.live, services.serializer
        self.script_engine, self.sandbox = services.script_engine, services.sandbox
        self.write_connection, self.quick_read = services.write_connection, services.quick_read
        self.handoffs = Handoffs(self)
        self.on_save(self.handoffs)  # models may start other processes (engine/handoffs.py)
        self.camunda = Camunda(self.services)  # Camunda 7 models, JUEL, handlers, external tasks (engine/camunda)
        self.clients = ClientService(services)  # the client record (engine/clients)
        hooks_of(services).row_writers.append(ConsentGate())  # consent and corrected addresses on outgoing mail
        # business calendars and SLA clocks (engine/sla, docs/sla.md); agreed targets from the client record
        self.sla = SlaService(agreements=sla_agreements.of_case)
        hooks_of(services).business_due = self.sla.business_due
        hooks_of(services).row_writers.append(self.sla.write_rows)

    # -- wiring ---------------------------------------------------------------------------------------------
    def on_save(self, listener: SaveListener) -> None:
        """Call `listener` after each committed change (e.g. to schedule new timers on RQ)."""
        self.services.on_save(listener)

    def notify_saved(self, results: list[unit_of_work.SaveResult]) -> None:
        self.services.notify_saved(results)

    def user(self, username: str | None) -> UserView:
        if username is None:
            return SYSTEM_USER
        with self.sql_engine.connect() as conn:
            return get_user(conn, username)

    def model(self, conn, definition_id: int):
        """The built specs of a deployed version (cached)."""
        return definitions.model_for(self.services, conn, definition_id)

    # -- definitions ----------------------------------------------------------------------------------------
    def deploy(self, path: str | Path, key: str | None = None, by: str | None = None, *, dialect: str | None = None,
               allow_ignored: bool = False) -> DeployResult:
        path = Path(path)
        files = read_bundle(path, self.form_dirs)
        return self.deploy_files(files, key or definitions.key_from_path(path), by, dialect=dialect,
                                 allow_ignored=allow_ignored)

    def deploy_each(self, folder: str | Path, by: str | None = None) -> list[DeployResult]:
        """Deploy every BPMN file of a folder as its own process (with the folder's DMN and form files), or every
        top-level process of one BPMN file under a key made from its id."""
        folder = Path(folder)
        if folder.is_file():
            files = read_bundle(folder, self.form_dirs)
            return [self.deploy_files(files, valid_key(pid), by) for pid in top_process_ids(files)]
        shared = [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
        results = []
        for bpmn in sorted(p for p in shared if is_bpmn(p)):
            files = read_bundle(bpmn, [folder, *self.form_dirs], extra=shared)
            results.append(self.deploy_files(files, definitions.key_from_path(bpmn), by))
        if not results:
            raise InvalidModel("the folder holds no .bpmn file", file=str(folder))
        return results

    def deploy_files(self, files: dict[str, str], key: str, by: str | None = None, *, dialect: str | None = None,
                     allow_ignored: bool = False) -> DeployResult:
        """Store a bundle as the next version of `key`; `dialect` and `allow_ignored`: engine/core/dialects.py."""
        with self.write_session.begin() as session:
            result = definitions.deploy_files(self.services, session, files, key, by, dialect=dialect,
                                               allow_ignored=allow_ignored)
            # A wrong SLA file or an unknown timer calendar refuses the deploy (the transaction rolls back).
            self.sla.check_model(definitions.model_for(self.services, session, definitions.latest(session, key).id))
            return result

    def processes(self, all_versions: bool = False) -> list[ProcessView]:
        with self.read_session() as session:
            return definitions.list_processes(session, all_versions)

    def definition_files(self, key: str, version: int | None = None) -> dict[str, str]:
        with self.read_session() as session:
            row = definitions.get_version(session, key, version or definitions.latest(session, key).version)
            return dict(row.files)

    # -- instances ------------------------------------------------------------------------------------------
    def start(self, key: str, data: dict[str, Any] | None = None, by: str | None = None) -> InstanceView:
        started = actions.start(self.services, key, data or {}, by)
        self.clients.after_start(started.id, data or {}, started.started_by)  # link (or create) its client
        return started

    def instance(self, instance_id: int) -> InstanceView:
        with self.read_session() as session:
            return unit_of_work.view(self._instance_row(session, instance_id))

    def instance_by_reference(self, reference: str) -> InstanceView:
        with self.read_session() as session:
            row = session.scalar(select(ProcessInstance).where(ProcessInstance.reference == reference))
            if row is None:
                raise InstanceNotFound(f"no instance with reference {reference!r}")
            return unit_of_work.view(row)

    def instance_detail(self, instance_id: int) -> InstanceDetail:
        return reads.detail(self.services, instance_id)

    def list_instances(self, **filters) -> list[InstanceView]:
        with self.read_session() as session:
            return reads.search(session, **filters)

    def retry(self, instance_id: int, data: dict[str, Any] | None = None, by: str | None = None) -> InstanceView:
        return actions.retry(self.services, instance_id, data or {}, self.user(by))

    def cancel(self, instance_id: int, by: str | None = None, reason: str = "") -> InstanceView:
        return actions.cancel(self.services, instance_id, self.user(by), reason)

    def send_message(self, name: str, correlation: dict[str, Any], payload: dict[str, Any] | None = None,
                     by: str | None = None) -> InstanceView:
        return actions.send_message(self.services, name, correlation, payload or {}, self.user(by))

    # -- tasks ----------------------------------------------------------------------------------------------
    def tasks(self, *, instance_id: int | None = None, user: str | None = None, mine: bool | None = None,
              process_key: str | None = None, due_before: datetime | None = None, due_after: datetime | None = None,
              limit: int | None = None, offset: int = 0) -> list[TaskView]:
        """Open tasks, soonest due first; `due_before`/`due_after` keep only tasks with a due date in that range."""
        if instance_id is not None and not (user or process_key or due_before or due_after or limit):
            with self.quick_read() as conn:  # an instance's tasks: the hot path, one statement
                rows = tasks.OF_INSTANCE_ORDERED.all(conn, {"instance_id": instance_id})
        else:
            with self.sql_engine.connect() as conn:
                viewer = get_user(conn, user) if user else None
                stmt = tasks.query(instance_id=instance_id, user=viewer, mine=mine, process_key=process_key,
                                   due_before=due_before, due_after=due_after)
                stmt = tasks.ordered(stmt)
                if limit is not None:
                    stmt = stmt.limit(limit).offset(offset)
                rows = conn.execute(stmt).all()
        return [tasks.view(row, self._cached_model(row.definition_id)) for row in rows]

    def _cached_model(self, definition_id: int):
        model = self.models.get(definition_id)
        if model is None:
            with self.sql_engine.connect() as conn:
                model = self.model(conn, definition_id)
        return model

    def task(self, task_id: str) -> TaskView:
        return reads.task_view(self.services, task_id)

    def claim(self, task_id: str, by: str) -> TaskView:
        return actions.claim(self.services, task_id, by, claim=True)

    def unclaim(self, task_id: str, by: str) -> TaskView:
        return actions.claim(self.services, task_id, by, claim=False)

    def complete(self, task_id: str, data: dict[str, Any] | None = None, by: str | None = None,
                 expected_version: int | None = None) -> InstanceView:
        done = actions.complete(self.services, task_id, data or {}, by, expected_version)
        if data and self.clients.wants_detail(done.id, data):  # onboarding details reach the client record
            self.clients.after_complete(done.id, data, self.instance_detail(done.id), by)
        return done

    def task_form(self, task_id: str) -> tuple[type | None, dict[str, Any]]:
        """The WTForms class of an open task's form (None when it has none) and the values it opens with."""
        task = self.task(task_id)
        if task.form is None:
            return None, {}
        return self.forms.form_for(task.form, self.task_context(task_id))

    def start_form(self, key: str) -> tuple[type | None, dict[str, Any]]:
        """The WTForms class of a process's start form (None when its start event names none) and its defaults."""
        with self.read_session() as session:
            model = definitions.model_for(self.services, session, definitions.latest(session, key).id)
        return self.forms.start_form(model)

    def task_context(self, task_id: str) -> dict[str, Any]:
        """The data a task's form may show (its current task data)."""
        return reads.task_data(self.services, task_id)

    # -- case work: team view, assignment, inbox search and saved views (engine/casework) ----------------------
    def inbox(self, user: str, query: inbox_query.InboxQuery, limit: int | None = None,
              offset: int = 0) -> list[TaskView]:
        """The open tasks an inbox page lists for `user`: searched, filtered and sorted as `query` says."""
        with self.sql_engine.connect() as conn:
            viewer = get_user(conn, user)
            lanes = self.supervision.lanes_of(viewer, inbox_query.known_lanes(conn)) if query.view == "team" else []
            stmt = inbox_query.statement(query, viewer, lanes)
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
            return bool(self.supervision.lanes_of(user, inbox_query.known_lanes(conn)))

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

    def correctable_fields(self, instance_id: int) -> list[tuple[str, str]]:
        """(name, title) of the form fields of an instance's process: the variables a manager may correct."""
        return incidents.correctable_fields(self.services, instance_id)

    def mail_log(self, instance_id: int) -> list[case_mail.MailEntry]:
        """The mails a case queued (status, attempts, times), newest first."""
        with self.sql_engine.connect() as conn:
            return case_mail.mails_of(conn, instance_id)

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

    # -- SLAs (engine/sla, docs/sla.md) -------------------------------------------------------------------------
    def escalate_now(self, instance_id: int, reason: str, by: str, target: str = "resolve"):
        """Refer a case up its SLA ladder now, with a reason (audited); returns the SLA event."""
        return sla_actions.refer(self.services, self.sla, instance_id, target, reason, self.user(by))

    def wait_on_client(self, instance_id: int, reason: str, by: str) -> InstanceView:
        """Put a case on hold while it waits on the client: clocks pause, business-time timers stop."""
        return sla_actions.hold(self.services, self.sla, instance_id, reason, self.user(by))

    def client_replied(self, instance_id: int, by: str, note: str = "") -> InstanceView:
        """End the hold: clocks resume and timers get back the business time they had left."""
        return sla_actions.release(self.services, self.sla, instance_id, self.user(by), note)

    def tick_slas(self, now: datetime | None = None, limit: int = 500) -> int:
        """Record breaches and ladder moves that fell due without a save (the sweeper calls it each minute)."""
        return sla_actions.tick(self.services, self.sla, now or self.clock.now(), limit)

    # -- timers ---------------------------------------------------------------------------------------------
    def timers(self, instance_id: int) -> list[TimerView]:
        with self.read_session() as session:
            return timers.timers_of(session, instance_id)

    def due_timers(self, now=None, limit: int = 500) -> list[TimerView]:
        with self.read_session() as session:
            return timers.due_timers(session, now or self.clock.now(), limit)

    def pending_timers(self) -> list[TimerView]:
        with self.read_session() as session:
            return timers.pending_timers(session)

    def fire_timer(self, timer_id: int) -> str:
        """Fire one timer if it is due; returns 'fired', 'early', or 'done' (already fired or cancelled)."""
        return actions.fire_timer(self.services, timer_id)

    def open_timer_due(self, timer_id: int) -> datetime | None:
        """When a timer not yet fired or cancelled is due (None when it is closed or unknown)."""
        return actions.open_timer_due(self.services, timer_id)

    def fire_due_timers(self, now=None) -> int:
        fired = 0
        for timer in self.due_timers(now):
            if actions.fire_timer(self.services, timer.id) == "fired":
                fired += 1
        return fired

    def events(self, instance_id: int) -> list[audit.AuditEvent]:
        with self.read_session() as session:
            return audit.events_of(session, instance_id)

    # -- notifications (the outbox's delivery lifecycle, engine/core/outbox.py) -----------------------------
    def claim_notification(self, notification_id: int, domain: str, *,
                           takeover: bool = False) -> outbox.Delivery | None:
        """Take an outbox row for one sending attempt (None when there is nothing to send now)."""
        return outbox.claim(self.services, notification_id, domain, takeover=takeover)

    def notification_sent(self, delivery: outbox.Delivery) -> None:
        outbox.mark_sent(self.services, delivery)

    def notification_logged(self, delivery: outbox.Delivery) -> None:
        outbox.mark_logged(self.services, delivery)

    def notification_failed(self, delivery: outbox.Delivery, reason: str) -> None:
        outbox.mark_failed(self.services, delivery, reason)

    def defer_notification(self, delivery: outbox.Delivery, reason: str, retry_at: datetime) -> None:
        outbox.defer(self.services, delivery, reason, retry_at)

    def due_notifications(self, until: datetime, limit: int = 1000) -> list[tuple[int, datetime | None]]:
        return outbox.due_notifications(self.services, until, limit)

    def notifications_in_flight(self, limit: int = 1000) -> list[int]:
        return outbox.in_flight(self.services, limit)

    def notification_status(self, notification_id: int) -> str | None:
        return outbox.status_of(self.services, notification_id)

    # -- studio (process owners) ---------------------------------------------------------------------------
    def validate_files(self, files: dict[str, str], key: str | None = None) -> list[lint.Finding]:
        """The engine's parse/validation verdict on a bundle, then our lint (see engine/studio/lint.py)."""
        return lint.validate(check_files(files), key, self.forms.check_model, dialects_of(self.services))

    def version_diff(self, key: str, old: int, new: int) -> bundle_diff.VersionDiff:
        return bundle_diff.diff_versions(key, old, self.definition_files(key, old), new,
                                         self.definition_files(key, new))

    def running_counts(self, key: str) -> dict[int, int]:
        """Running (or failed) instances per version of a process."""
        with self.read_session() as session:
            return definitions.running_counts(session, key)

    def migration_plan(self, instance_id: int, to_version: int) -> migration.MigrationPlan:
        return migration.plan(self.services, instance_id, to_version)

    def migrate_instance(self, instance_id: int, to_version: int, by: str | None = None) -> InstanceView:
        """Move a running instance to another version of its process, or raise `MigrationRefused`."""
        return migration.migrate(self.services, instance_id, to_version, by)

    def save_draft(self, key: str, username: str, files: dict[str, str],
                   base_version: int | None = None) -> studio_drafts.Draft:
        with self.write_session.begin() as session:
            return studio_drafts.save(session, key, username, files, base_version, self.clock.now())

    def draft(self, key: str, username: str) -> studio_drafts.Draft | None:
        with self.read_session() as session:
            return studio_drafts.get(session, key, username)

    def drafts(self, username: str) -> list[studio_drafts.Draft]:
        with self.read_session() as session:
            return studio_drafts.of_user(session, username)

    def discard_draft(self, key: str, username: str) -> bool:
        with self.write_session.begin() as session:
            return studio_drafts.discard(session, key, username)

    # -- helpers --------------------------------------------------------------------------------------------
    @staticmethod
    def _instance_row(session, instance_id: int) -> ProcessInstance:
        row = session.get(ProcessInstance, instance_id)
        if row is None:
            raise InstanceNotFound(f"no instance with id {instance_id}")
        return row
