"""The worked example of docs/camunda-migration.md runs as written: a camunda-bpm-examples model deployed unchanged
against `clientflow run`, started over `/engine-rest`, and its Java delegate's step served by the Node worker of
docs/examples/camunda (Camunda's own client) until the instance completes."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.support import clientflow_running

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
    with clientflow_running([], env, tmp_path / "run.log") as url:
        yield url, env


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
