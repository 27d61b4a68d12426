"""Every shell command in README.md and docs/getting-started.md runs as documented, against a demo database.

A command is run from the repository root by bash, as a reader would paste it, with the test's database and a
fresh instance folder in the environment. Placeholders a reader fills in (TASK_ID, answers.json, the example
database hosts) are filled in the way the surrounding text says; commands that cannot run inside the suite are
listed in NOT_RUN with the reason and what the test does instead.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import clientflow_running

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
NOT_RUN = {
    "make test": "it is this test suite",
    "git clone <this repository> clientflow && cd clientflow": "the suite runs in a clone already",
    "make run": "installs, then runs `clientflow run --demo`: the test starts that (below) and serves a page",
}


def shell_commands(markdown: Path) -> list[str]:
    """The commands of the ```sh blocks: continuation lines joined, comments dropped, one entry per command."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", markdown.read_text(), flags=re.S):
        pending = ""
        for line in block.splitlines():
            pending = f"{pending}\n{line}" if pending else line
            if pending.endswith("\\"):
                continue
            try:
                words = shlex.split(pending, comments=True)
            except ValueError:  # an open quote: the command goes on on the next line
                continue
            if words:
                commands.append(_without_comment(pending).replace("\\\n", " "))
            pending = ""
        assert not pending, f"unfinished command in {markdown.name}: {pending!r}"
    return commands


def _without_comment(command: str) -> str:
    """The command without its trailing `# comment` (a `#` outside quotes, after whitespace)."""
    quote = None
    for i, char in enumerate(command):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or command[i - 1].isspace()):
            return command[:i].rstrip()
    return command.rstrip()


@pytest.fixture
def demo(app, database_url, tmp_path):
    """`clientflow run --demo` (what `make run` starts) on the test database; yields the environment of a shell
    in which the documented commands are typed."""
    env = {**os.environ, "DATABASE_URL": database_url, "CLIENTFLOW_INSTANCE_PATH": str(tmp_path / "instance")}
    env.pop("REDIS_URL", None)
    with clientflow_running(["--demo"], env, tmp_path / "run.log"):
        printed = (tmp_path / "run.log").read_text().splitlines()
        problems = [line for line in printed if line.startswith("demo: ")
                    and not line.startswith(("demo: deployed", "demo: started"))]
        assert not problems, "the demo reported problems:\n" + "\n".join(problems)
        yield env


def sh(command: str, env: dict, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    result = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"`{command}` exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


def test_the_readme_commands_run_against_the_demo(demo):
    commands = shell_commands(ROOT / "README.md")
    assert commands, "README.md lost its commands"
    for command in commands:
        if command in NOT_RUN:
            continue
        output = sh(command, demo).stdout
        if "tasks --user" in command:
            assert "TASK" in output.upper() and output.strip(), f"`{command}` listed no task:\n{output}"


def test_the_getting_started_commands_run_in_order(demo, database_url, tmp_path):
    env = dict(demo)
    # A reader's checkout, so the files the commands write (answers.json) land there, not in this repository.
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in (".venv", "processes", "forms"):
        (checkout / name).symlink_to(ROOT / name)
    task_id = started = None
    for command in shell_commands(ROOT / "docs" / "getting-started.md"):
        if command in NOT_RUN:
            continue
        if command.startswith("export "):
            # The example hosts stand for the reader's own: this suite's database (and the embedded Redis).
            name = command.split()[1].split("=")[0]
            if name == "DATABASE_URL":
                env[name] = database_url
            continue
        if "TASK_ID" in command:
            assert task_id, "a command names TASK_ID before any `tasks` command listed one"
            command = command.replace("TASK_ID", task_id)
        output = sh(command, env, checkout).stdout
        if " start " in command:
            started = int(re.search(r"started instance (\d+)", output).group(1))
        if " tasks --user " in command:
            # The reader takes the task of the case they started; the demo's cases may list before it (a case
            # started on a Friday is due on Monday).
            task_id = _first_task(command, env, checkout, started)
            assert task_id, f"`{command}` listed no task of instance {started}:\n{output}"


def _first_task(command: str, env: dict, cwd: Path, instance_id: int | None) -> str | None:
    listed = json.loads(sh(f"{command} --json", env, cwd).stdout)
    return next((task["id"] for task in listed if instance_id in (None, task["instance_id"])), None)


def test_commands_are_found_in_both_documents():
    """The extraction itself: a multi-line --data argument and a continued line are one command each."""
    commands = shell_commands(ROOT / "docs" / "getting-started.md")
    start = next(c for c in commands if " start complaint_handling " in c)
    assert json.loads(shlex.split(start)[-1])["category"] == "billing"
    assert any("--password-stdin" in c and c.startswith("echo ") for c in commands)
    assert sys.executable  # the commands themselves run .venv/bin/clientflow, as the documents say
