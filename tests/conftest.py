"""Shared fixtures: a real database per run (SQLite or PostgreSQL), an app, an engine, users.

`CLIENTFLOW_TEST_DATABASE` chooses the backend: `sqlite` (default) or a PostgreSQL URL; for PostgreSQL a
fresh database is created for the run and dropped afterwards. Under CI=true an unreachable PostgreSQL fails
the run with a clear message instead of skipping.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine.clock import ManualClock
from tests.support import FIXTURES, PASSWORD, empty_tables
from webapp import create_app
from webapp.config import normalise_database_url

CHROMIUM = os.environ.get("CLIENTFLOW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
BACKEND = os.environ.get("CLIENTFLOW_TEST_DATABASE", "sqlite")
# Every saved state is compared with a full SpiffWorkflow serialization (engine/core/serializer.py); subprocesses
# the tests start (CLI, workers, servers) inherit it.
os.environ.setdefault("CLIENTFLOW_CHECK_STATE", "1")


def _postgres_database(base_url: str):
    url = normalise_database_url(base_url)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"clientflow_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as err:  # noqa: BLE001 - any connection problem means the same to the user
        message = f"PostgreSQL at {base_url} is not reachable: {err.__class__.__name__}: {err}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.exit(message, returncode=3)
        pytest.skip(message, allow_module_level=True)
    return admin, name, url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """One migrated database for the whole run."""
    if BACKEND == "sqlite":
        folder = tmp_path_factory.mktemp("db")
        url = f"sqlite:///{folder / 'clientflow.db'}"
        _migrate(url, folder)
        yield url
        return
    admin, name, url = _postgres_database(BACKEND)
    _migrate(url, tmp_path_factory.mktemp("pginstance"))
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _migrate(url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    from webapp import MIGRATIONS_DIR

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance), "TESTING": True,
                      "SECRET_KEY": "test"})
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        from webapp.extensions import db

        db.engine.dispose()






@pytest.fixture(autouse=True, scope="session")
def quick_password_hashing():
    """Real argon2id hashes with the smallest cost: tests create hundreds of users, production keeps the default."""
    from argon2 import PasswordHasher

    import engine.core.users

    engine.core.users._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def instance_path(tmp_path):
    path = tmp_path / "instance"
    path.mkdir()
    return path


@pytest.fixture
def app_config(database_url, instance_path):
    """The mapping tests give to `create_app`; tests may add to it before the app is made."""
    return {"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(instance_path), "TESTING": True,
            "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False}


@pytest.fixture
def app(app_config, database_url):
    empty_tables(database_url)
    application = create_app(app_config)
    yield application
    with application.app_context():
        from webapp.extensions import db

        db.engine.dispose()


@pytest.fixture
def clock():
    """A manual engine clock on a Monday morning; folders whose tests use it put it into `app_config`."""
    return ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture(name="text")
def page_text():
    """A response's text without tags, runs of whitespace collapsed and HTML entities decoded."""
    def of(response) -> str:
        return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))
    return of


@pytest.fixture
def engine(app):
    return app.extensions["clientflow"]


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_user(engine):
    from engine.core.users import save_user

    def make(name: str, *roles: str, password: str | None = PASSWORD, email: str | None = None):
        with engine.write_session.begin() as session:
            return save_user(session, name, list(roles), password=password, email=email)
    return make


@pytest.fixture
def order_bundle(tmp_path):
    """A copy of the multi-lane test model folder that a test may change."""
    target = tmp_path / "order"
    shutil.copytree(FIXTURES / "order", target)
    return target


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium driven by playwright: one browser (and one playwright loop) for the whole run."""
    if not shutil.which(CHROMIUM):
        message = f"{CHROMIUM} is missing: run `make browser-deps`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The app served by werkzeug in a thread; yields its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)






