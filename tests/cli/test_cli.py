"""The `clientflow` command: contract of outputs, exit codes and one-line errors."""

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tests.support import FIXTURES
from webapp.cli.commands import main


@pytest.fixture
def cli(app):
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(main, [str(a) for a in args], obj=app, input=input, catch_exceptions=False)
    return invoke


@pytest.fixture
def deployed(cli, order_bundle, make_user):
    make_user("alice", "Agent")
    make_user("carol", "Reviewer")
    result = cli("deploy", order_bundle, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_deploy_and_processes(cli, deployed, order_bundle):
    assert deployed == {"key": "order", "version": 1, "process_ids": ["order", "order_checks"], "created": True,
                        "dialect": "spiff", "compat": []}
    again = cli("deploy", order_bundle)
    assert again.output.strip() == "order v1 unchanged (order, order_checks)"
    listed = json.loads(cli("processes", "--json").output)
    assert [(p["key"], p["version"], p["name"]) for p in listed] == [("order", 1, "Order handling")]


def test_start_tasks_complete_show(cli, deployed, tmp_path):
    data = tmp_path / "data.json"
    data.write_text('{"customer_name": "ACME"}')
    started = json.loads(cli("start", "order", "--data", f"@{data}", "--as", "alice", "--json").output)
    assert set(started) == {"id", "key", "version", "status", "reference"}
    assert started["status"] == "running"
    tasks = json.loads(cli("tasks", "--instance", started["id"], "--json").output)
    assert [(t["element_id"], t["lane"]) for t in tasks] == [("capture", "Agent")]
    assert {"id", "instance_id", "element_id", "name", "lane", "claimed_by", "form"} <= set(tasks[0])
    claimed = cli("claim", tasks[0]["id"], "--as", "alice")
    assert "claimed by alice" in claimed.output
    done = cli("complete", tasks[0]["id"], "--data", '{"amount": 2000}', "--as", "alice", "--json")
    assert json.loads(done.output)["status"] == "running"
    shown = json.loads(cli("show", started["id"], "--json").output)
    assert {"id", "status", "data", "tasks", "timers", "events"} <= set(shown)
    assert shown["data"]["risk"] == "high"
    assert shown["timers"][0]["element_id"] == "review_reminder" and shown["timers"][0]["due_at"]
    text = cli("show", started["id"]).output
    assert "review_reminder" in text and "task_completed" in text


@pytest.mark.parametrize(("args", "code", "message"), [
    (["start", "nope"], 3, "error: no process deployed under key 'nope'"),
    (["start", "order", "--data", "{bad"], 2, "error: --data is not valid JSON"),
    (["start", "order", "--data", "[1, 2]"], 2, "error: --data must be a JSON object, not list"),
    (["start", "order", "--data", "@/no/such/file.json"], 2, "error: cannot read /no/such/file.json"),
    (["show", "999"], 3, "error: no instance with id 999"),
    (["complete", "not-a-task"], 3, "error: no open task with id not-a-task"),
    (["claim", "x"], 2, "Missing option '--as'"),
    (["show", "abc"], 2, "'abc' is not a valid integer"),
    (["deploy", "/no/such.bpmn"], 2, "error: /no/such.bpmn: no such file or folder"),
    (["users", "add", "x y", "--role", "Agent"], 2, "error: invalid user name"),
])
def test_bad_arguments_give_one_line_and_exit_code(cli, deployed, args, code, message):
    result = cli(*args)
    assert result.exit_code == code
    assert message in result.output
    if message.startswith("error:"):
        assert len(result.output.strip().splitlines()) == 1


def test_role_refusal_exit_code(cli, deployed):
    started = json.loads(cli("start", "order", "--json").output)
    task = json.loads(cli("tasks", "--instance", started["id"], "--json").output)[0]
    result = cli("complete", task["id"], "--data", "{}", "--as", "carol")
    assert result.exit_code == 1
    assert "does not have the role 'Agent'" in result.output
    assert cli("users", "add", "dave", "--role", "Agent", "--password-stdin", input="short\n").exit_code == 2
    ok = cli("users", "add", "dave", "--role", "Agent", "--role", "Reviewer", "--password-stdin",
             input="a-long-password\n")
    assert ok.output.strip() == "user dave has roles: Agent, Reviewer"
    token = cli("users", "token", "dave").output.strip()
    assert token.startswith("cf_") and len(token) > 30


def test_fresh_database_through_the_real_command(tmp_path):
    """`clientflow init` twice (idempotent), then deploy, against a brand-new SQLite file."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}", "SECRET_KEY": "x"}
    command = [os.path.join(os.path.dirname(sys.executable), "clientflow")]
    for _ in range(2):
        done = subprocess.run([*command, "init"], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    done = subprocess.run([*command, "deploy", str(FIXTURES / "order"), "--json"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["version"] == 1
    bad = subprocess.run([*command, "start", "order", "--data", "nope"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("error: --data is not valid JSON")


def test_a_fault_that_is_not_a_domain_error_is_one_line_and_exit_70(tmp_path):
    """The database unreachable: no traceback on the terminal, one line naming the log that holds it."""
    from tests.worker.harness import free_port

    instance = tmp_path / "instance"
    env = {**os.environ, "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere",
           "CLIENTFLOW_INSTANCE_PATH": str(instance), "SECRET_KEY": "x"}
    command = [os.path.join(os.path.dirname(sys.executable), "clientflow"), "processes"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 70, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: internal error (OperationalError: "), done.stderr
    assert str(instance / "cli-errors.log") in lines[0]
    assert "Traceback" in (instance / "cli-errors.log").read_text()
