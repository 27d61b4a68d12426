"""The worked example of docs/camunda-migration.md runs as written: a camunda-bpm-examples model deployed unchanged
against `clientflow run`, started over `/engine-rest`, and its Java delegate's step served by the Node worker of
docs/examples/camunda (Camunda's own client) until the instance completes."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.worker.harness import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "camunda-migration.md"
DOC_URL = "http://127.0.0.1:5000"


def worked_example_commands() -> str:
    section = DOC.read_text().split("## Worked example", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    return block


@pytest.fixture
def clientflow_run(app, database_url, tmp_path):
    """`clientflow run` (web app, worker, embedded Redis) on the test database; yields its URL and environment."""
    env = {**os.environ, "DATABASE_URL": database_url, "CLIENTFLOW_INSTANCE_PATH": str(tmp_path / "instance")}
    env.pop("REDIS_URL", None)
    port = free_port()
    log_path = tmp_path / "run.log"
    with open(log_path, "wb") as log:
        run = subprocess.Popen([str(ROOT / ".venv" / "bin" / "clientflow"), "run", "--port", str(port)], cwd=ROOT,
                               env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_for(f"{url}/login", run, log_path)
            yield url, env
        finally:
            run.send_signal(signal.SIGTERM)
            try:
                run.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(run.pid, signal.SIGKILL)


def _wait_for(url: str, process, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"`clientflow run` exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"`clientflow run` did not serve {url} within {timeout} s:\n{log.read_text()}")


def test_the_worked_example_commands_run_as_documented(clientflow_run, engine):
    if not shutil.which("node") or not (ROOT / "node_modules" / "camunda-external-task-client-js").is_dir():
        pytest.fail("node and the npm devDependency camunda-external-task-client-js are needed: run `make install`")
    url, env = clientflow_run
    commands = worked_example_commands()
    assert DOC_URL in commands, "the example no longer names the address `clientflow run` serves"
    script = "set -eu\n" + commands.replace(DOC_URL, url)
    shell = subprocess.Popen(["bash", "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = shell.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(shell.pid, signal.SIGKILL)  # the background worker too
        output, _ = shell.communicate()
        pytest.fail(f"the worked example did not finish:\n{output}")
    assert shell.returncode == 0, f"the worked example failed ({shell.returncode}):\n{output}"
    assert '"handling": "run"' in output and '"businessKey":"QS-1"' in output
    detail = engine.instance_detail(1)
    assert detail.instance.status == "completed" and detail.instance.key == "sync_service"
    assert detail.data["greeting"] == "Hello, Thandi" and detail.data["invoked"] is True
    assert '"greeting": "Hello, Thandi"' in output.rsplit("sync_service", 1)[-1]  # `show` lists the worker's variables
