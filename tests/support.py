"""Helpers shared by the tests (plain functions and constants; fixtures stay in conftest.py files)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine.core.db.models import Base

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[1]


def empty_tables(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
            conn.execute(text("DELETE FROM sqlite_sequence")) if _has_sequence(conn) else None
    engine.dispose()


def _has_sequence(conn) -> bool:
    return bool(conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first())


PASSWORD = "tidal-lantern-orchard-42"
# Playwright's default wait in the browser tests: generous, since each wait ends as soon as the page shows what it
# waits for, and on a loaded CI machine the server thread, chromium and the diagram's rendering share two CPUs with
# the other database pass.
BROWSER_PATIENCE_MS = 45_000


def client_signed_in(app, username: str, password: str = PASSWORD):
    """A Flask test client with a signed-in session (one client per user, like separate browsers)."""
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.text
    return client


def bearer_headers(engine, username: str) -> dict[str, str]:
    """Authorization headers with a new API token of the user."""
    from engine.core.tokens import SCOPES, create_token

    with engine.write_session.begin() as session:
        token, _ = create_token(session, username, "test", now=engine.clock.now(), scopes=SCOPES)
    return {"Authorization": f"Bearer {token}"}


def give_capture_a_form(bundle: Path, form: dict) -> None:
    """Put `form` on the first task ("Capture order") of the order model copied to `bundle`."""
    import json

    (bundle / "order_form.json").write_text(json.dumps(form))
    bpmn = bundle / "order.bpmn"
    bpmn.write_text(bpmn.read_text().replace(
        '<bpmn:userTask id="capture" name="Capture order">',
        '<bpmn:userTask id="capture" name="Capture order"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="formJsonSchemaFilename" value="order_form.json" />'
        '</spiffworkflow:properties></bpmn:extensionElements>'))


@contextmanager
def clientflow_running(args: list[str], env: dict[str, str], log_path: Path, timeout: float = 90) -> Iterator[str]:
    """`clientflow run <args> --port <free>` from the repository root, in its own session; yields its URL once
    /login answers, and stops it (SIGTERM, then SIGKILL) afterwards. Fails the test, with the log, if it exits
    or does not serve within `timeout` seconds."""
    from tests.worker.harness import free_port

    url = f"http://127.0.0.1:{free_port()}"
    command = [str(ROOT / ".venv" / "bin" / "clientflow"), "run", *args, "--port", url.rsplit(":", 1)[1]]
    with open(log_path, "wb") as log:
        run = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
        try:
            what = "`" + " ".join(["clientflow", "run", *args]) + "`"
            _wait_until_served(f"{url}/login", run, log_path, what, timeout)
            yield url
        finally:
            run.send_signal(signal.SIGTERM)
            try:
                run.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(run.pid, signal.SIGKILL)


def _wait_until_served(url: str, process, log: Path, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what} exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"{what} did not serve {url} within {timeout} s:\n{log.read_text()}")
