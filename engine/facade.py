"""The engine facade: one object wiring sessions, clock, spec cache and sandbox; plain results out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine as SqlEngine

from engine.camunda.feature import Camunda
from engine.casework import search_fields
from engine.casework.supervision import Supervision
from engine.clients import ClientService, ConsentGate
from engine.clients.documents import DocumentStore, check_completions
from engine.clients.uploads import UploadPolicy
from engine.clock import Clock
from engine.core import actions, audit, definitions, reads, tasks, timers, unit_of_work
from engine.core.bundle import is_bpmn, read_bundle, top_process_ids
from engine.core.db.models import ProcessInstance
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
from engine.sla import panel as sla_reads
from engine.sla import promise as sla_promise
from engine.sla.mailing import OfficeHoursMail
from engine.sla.service import SlaService
from engine.uses.casework import CaseworkUses
from engine.uses.notifications import NotificationUses
from engine.uses.studio import StudioUses

SaveListener = Callable[[list[unit_of_work.SaveResult]], None]


class Engine(CaseworkUses, NotificationUses, StudioUses):
    """Everything the web app, the CLI and the workers need from the workflow core."""

    def __init__(self, sql_engine: SqlEngine, *, clock: Clock | None = None, form_dirs: list[Path] | None = None,
                 script_time_limit: float = 1.0, script_memory_mb: int = 256, script_wall_seconds: float = 2.0,
                 sandbox_processes: int = 2, max_state_bytes: int = MAX_STATE_BYTES,
                 max_variable_bytes: int = 256 * 1024, live_cache_size: int = 256,
                 lane_supervisors: dict[str, list[str]] | None = None, check_state: bool = False,
                 upload_policy: UploadPolicy | None = None):
        """`script_*` and `sandbox_processes` bound each script run (docs/sandbox.md); `max_state_bytes` bounds an
        instance's saved state and `max_variable_bytes` one value given by a form or the API; `check_state` compares
        every saved state with a full SpiffWorkflow serialization (tests); `upload_policy` limits uploaded files
        (size, types, virus scan)."""
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
        # uploaded case documents and attachments (engine/clients/documents.py)
        self.documents = DocumentStore(services, upload_policy)
        hooks_of(services).row_writers.append(check_completions)  # document references and expiry gates
        hooks_of(services).row_writers.append(search_fields.write_rows)  # what the inbox search matches
        # business calendars and SLA clocks (engine/sla, docs/sla.md); agreed targets from the client record
        self.sla = SlaService(agreements=sla_agreements.of_case)
        hooks_of(services).business_due = self.sla.business_due
        hooks_of(services).row_writers.append(self.sla.write_rows)
        hooks_of(services).row_writers.append(OfficeHoursMail(self.sla))  # staff SLA mail in hours, as digests

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
        self.clients.after_start(started, data or {})  # link (or create) its client
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
        """Instances newest first; a search text also matches the cases' searchable fields (engine/casework)."""
        with self.read_session() as session:
            return reads.search(session, field_match=search_fields.matches, **filters)

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

    def sla_panel(self, instance_id: int) -> sla_reads.SlaPanel:
        """A case's SLA clocks seen now (due, business time used, minutes over) and its SLA event log."""
        with self.read_session() as session:
            return sla_reads.panel(session.connection(), self.sla.calendars, instance_id, self.clock.now())

    def sla_badges(self, instance_ids) -> dict[int, sla_reads.SlaBadge]:
        """The inbox's SLA cell for each listed case (breached minutes, escalated, paused, next due), one query."""
        with self.read_session() as session:
            return sla_reads.badges(session.connection(), self.sla.calendars, instance_ids, self.clock.now())

    def client_promise(self, instance_id: int) -> sla_promise.ClientPromise:
        """When the client will hear from us: the earliest due of the case's running client-facing clocks."""
        with self.read_session() as session:
            return sla_promise.promise(session.connection(), self.sla.calendars, instance_id, self.clock.now())

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

    # -- helpers --------------------------------------------------------------------------------------------
    @staticmethod
    def _instance_row(session, instance_id: int) -> ProcessInstance:
        row = session.get(ProcessInstance, instance_id)
        if row is None:
            raise InstanceNotFound(f"no instance with id {instance_id}")
        return row
