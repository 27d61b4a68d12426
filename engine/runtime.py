"""The engine facade: one object wiring sessions, clock, spec cache and sandbox; plain results out."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event, select
from sqlalchemy.engine import Engine as SqlEngine

from . import audit, definitions, instances, lint, migration, tasks, timers
from . import diff as bundle_diff
from . import drafts as studio_drafts
from .archive import check_files
from .bundle import read_bundle
from .clock import Clock, SystemClock
from .database import WRITE_OPTION, session_factories
from .errors import InstanceNotFound, InvalidModel, TaskNotFound
from .forms import FormService
from .handoffs import Handoffs
from .models import ProcessInstance
from .scripts import DEFAULT_TIME_LIMIT, script_engine
from .users import SYSTEM_USER, UserView, get_user
from .views import DeployResult, InstanceDetail, InstanceView, ProcessView, TaskView, TimerView


class IdleConnections:
    """A few open SQLAlchemy connections kept between write transactions, for this process only."""

    def __init__(self, sql_engine: SqlEngine, size: int = 4, **options):
        self._engine = sql_engine.execution_options(**options)
        self._size = size
        self._idle: deque[Connection] = deque()
        self._pid = os.getpid()
        # `dispose()` closes the pool's idle connections; these are idle too.
        event.listen(sql_engine, "engine_disposed", lambda _engine: self.close())

    def take(self) -> Connection:
        if self._pid != os.getpid():  # a forked child never uses its parent's connections
            self._idle, self._pid = deque(), os.getpid()
        try:
            return self._idle.pop()
        except IndexError:
            return self._engine.connect()

    def give(self, conn: Connection) -> None:
        if len(self._idle) < self._size and not conn.invalidated and self._pid == os.getpid():
            self._idle.append(conn)
        else:
            conn.close()

    @contextmanager
    def lend(self, transaction: bool) -> Iterator[Connection]:
        """An open connection for one unit of work (in a transaction or not), kept for the next when it ends
        well: checking one out of the pool and back costs as much as a small transaction."""
        conn = self.take()
        try:
            if transaction:
                with conn.begin():
                    yield conn
            else:
                yield conn
        except BaseException:
            conn.close()
            raise
        self.give(conn)

    def close(self) -> None:
        while True:
            try:
                conn = self._idle.pop()
            except IndexError:
                return
            conn.close()


class LiveWorkflows:
    """A small LRU of restored workflows keyed by instance id, valid only for one `lock_version`.

    An entry is taken out while in use, so two threads never share a workflow object."""

    def __init__(self, size: int = 256):
        self._items: OrderedDict[int, tuple[int, Any]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def take(self, instance_id: int, lock_version: int):
        with self._lock:
            entry = self._items.pop(instance_id, None)
        if entry is not None and entry[0] == lock_version:
            return entry[1]
        return None

    def put(self, instance_id: int, lock_version: int, workflow) -> None:
        if self._size <= 0:
            return
        with self._lock:
            self._items[instance_id] = (lock_version, workflow)
            self._items.move_to_end(instance_id)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


SaveListener = Callable[[list[instances.SaveResult]], None]


class Engine:
    """Everything the web app, the CLI and the workers need from the workflow core."""

    def __init__(self, sql_engine: SqlEngine, *, clock: Clock | None = None, form_dirs: list[Path] | None = None,
                 script_time_limit: float = DEFAULT_TIME_LIMIT, live_cache_size: int = 256):
        self.sql_engine = sql_engine
        self.write_session, self.read_session = session_factories(sql_engine)
        # Kept connections skip the pool's pre-ping: worth it on SQLite (a local file, where checkout costs as much
        # as a small transaction), not on a server that may restart under them.
        self._writers = IdleConnections(sql_engine, size=4 if sql_engine.dialect.name == "sqlite" else 0,
                                        **{WRITE_OPTION: True})
        self.clock = clock or SystemClock()
        self.form_dirs = list(form_dirs or [])
        self.models = definitions.ModelCache()
        self.live = LiveWorkflows(live_cache_size)
        self.forms = FormService()
        self.script_engine = script_engine(time_limit=script_time_limit)
        self.serializer = instances.StateSerializer()
        self._listeners: list[SaveListener] = []
        self.handoffs = Handoffs(self)
        self.on_save(self.handoffs)  # models may start other processes (engine/handoffs.py)

    def write_connection(self) -> AbstractContextManager[Connection]:
        """A write transaction on a plain connection (the hot path skips the ORM session)."""
        return self._writers.lend(transaction=True)

    def quick_read(self) -> AbstractContextManager[Connection]:
        """A connection for a read of one or two `Prepared` statements, on the connection writes use.

        On SQLite a reader that just wrote still has the pages in its cache, and a single statement needs no
        transaction; elsewhere the read runs in a transaction of its own."""
        return self._writers.lend(transaction=self.sql_engine.dialect.name != "sqlite")

    # -- wiring ---------------------------------------------------------------------------------------------
    def on_save(self, listener: SaveListener) -> None:
        """Call `listener` after each committed change (e.g. to schedule new timers on RQ)."""
        self._listeners.append(listener)

    def notify_saved(self, results: list[instances.SaveResult]) -> None:
        for listener in self._listeners:
            listener(results)

    def user(self, username: str | None) -> UserView:
        if username is None:
            return SYSTEM_USER
        with self.sql_engine.connect() as conn:
            return get_user(conn, username)

    def model(self, conn, definition_id: int):
        """The built specs of a deployed version (cached)."""
        return definitions.model_for(self, conn, definition_id)

    # -- definitions ----------------------------------------------------------------------------------------
    def deploy(self, path: str | Path, key: str | None = None, by: str | None = None) -> DeployResult:
        path = Path(path)
        files = read_bundle(path, self.form_dirs)
        return self.deploy_files(files, key or definitions.key_from_path(path), by)

    def deploy_each(self, folder: str | Path, by: str | None = None) -> list[DeployResult]:
        """Deploy every .bpmn file of a folder as its own process (with the folder's DMN and form files)."""
        folder = Path(folder)
        shared = {p.name: p for p in folder.iterdir() if p.suffix in (".dmn", ".json")} if folder.is_dir() else {}
        results = []
        for bpmn in sorted(folder.glob("*.bpmn")):
            files = read_bundle(bpmn, [folder, *self.form_dirs], extra=shared.values())
            results.append(self.deploy_files(files, definitions.key_from_path(bpmn), by))
        if not results:
            raise InvalidModel("the folder holds no .bpmn file", file=str(folder))
        return results

    def deploy_files(self, files: dict[str, str], key: str, by: str | None = None) -> DeployResult:
        with self.write_session.begin() as session:
            return definitions.deploy_files(self, session, files, key, by)

    def processes(self, all_versions: bool = False) -> list[ProcessView]:
        with self.read_session() as session:
            return definitions.list_processes(session, all_versions)

    def definition_files(self, key: str, version: int | None = None) -> dict[str, str]:
        with self.read_session() as session:
            row = definitions.get_version(session, key, version or definitions.latest(session, key).version)
            return dict(row.files)

    # -- instances ------------------------------------------------------------------------------------------
    def start(self, key: str, data: dict[str, Any] | None = None, by: str | None = None) -> InstanceView:
        return instances.start(self, key, data or {}, by)

    def instance(self, instance_id: int) -> InstanceView:
        with self.read_session() as session:
            return instances.view(self._instance_row(session, instance_id))

    def instance_by_reference(self, reference: str) -> InstanceView:
        with self.read_session() as session:
            row = session.scalar(select(ProcessInstance).where(ProcessInstance.reference == reference))
            if row is None:
                raise InstanceNotFound(f"no instance with reference {reference!r}")
            return instances.view(row)

    def instance_detail(self, instance_id: int) -> InstanceDetail:
        return instances.detail(self, instance_id)

    def list_instances(self, **filters) -> list[InstanceView]:
        with self.read_session() as session:
            return instances.search(session, **filters)

    def retry(self, instance_id: int, data: dict[str, Any] | None = None, by: str | None = None) -> InstanceView:
        return instances.retry(self, instance_id, data or {}, self.user(by))

    def cancel(self, instance_id: int, by: str | None = None, reason: str = "") -> InstanceView:
        return instances.cancel(self, instance_id, self.user(by), reason)

    def send_message(self, name: str, correlation: dict[str, Any], payload: dict[str, Any] | None = None,
                     by: str | None = None) -> InstanceView:
        return instances.send_message(self, name, correlation, payload or {}, self.user(by))

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
        with self.read_session() as session:
            row = session.connection().execute(tasks.query().where(tasks.HUMAN.c.id == task_id)).one_or_none()
            if row is None:
                raise TaskNotFound(f"no open task with id {task_id}")
            return tasks.view(row, definitions.model_for(self, session, row.definition_id))

    def claim(self, task_id: str, by: str) -> TaskView:
        return instances.claim(self, task_id, by, claim=True)

    def unclaim(self, task_id: str, by: str) -> TaskView:
        return instances.claim(self, task_id, by, claim=False)

    def complete(self, task_id: str, data: dict[str, Any] | None = None, by: str | None = None,
                 expected_version: int | None = None) -> InstanceView:
        return instances.complete(self, task_id, data or {}, by, expected_version)

    def task_form(self, task_id: str) -> tuple[type | None, dict[str, Any]]:
        """The WTForms class of an open task's form (None when it has none) and the values it opens with."""
        task = self.task(task_id)
        if task.form is None:
            return None, {}
        return self.forms.form_for(task.form, self.task_context(task_id))

    def start_form(self, key: str) -> tuple[type | None, dict[str, Any]]:
        """The WTForms class of a process's start form (None when its start event names none) and its defaults."""
        with self.read_session() as session:
            model = definitions.model_for(self, session, definitions.latest(session, key).id)
        return self.forms.start_form(model)

    def task_context(self, task_id: str) -> dict[str, Any]:
        """The data a task's form may show (its current task data)."""
        return instances.task_data(self, task_id)

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
        return instances.fire_timer(self, timer_id)

    def fire_due_timers(self, now=None) -> int:
        fired = 0
        for timer in self.due_timers(now):
            if instances.fire_timer(self, timer.id) == "fired":
                fired += 1
        return fired

    def events(self, instance_id: int) -> list[audit.AuditEvent]:
        with self.read_session() as session:
            return audit.events_of(session, instance_id)

    # -- studio (process owners) ---------------------------------------------------------------------------
    def validate_files(self, files: dict[str, str], key: str | None = None) -> list[lint.Finding]:
        """The engine's parse/validation verdict on a bundle, then our lint (see engine/lint.py)."""
        return lint.validate(check_files(files), key, self.forms.check_model)

    def version_diff(self, key: str, old: int, new: int) -> bundle_diff.VersionDiff:
        return bundle_diff.diff_versions(key, old, self.definition_files(key, old), new,
                                         self.definition_files(key, new))

    def running_counts(self, key: str) -> dict[int, int]:
        """Running (or failed) instances per version of a process."""
        with self.read_session() as session:
            return definitions.running_counts(session, key)

    def migration_plan(self, instance_id: int, to_version: int) -> migration.MigrationPlan:
        return migration.plan(self, instance_id, to_version)

    def migrate_instance(self, instance_id: int, to_version: int, by: str | None = None) -> InstanceView:
        """Move a running instance to another version of its process, or raise `MigrationRefused`."""
        return migration.migrate(self, instance_id, to_version, by)

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
