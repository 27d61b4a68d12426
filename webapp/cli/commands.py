"""The `clientflow` command: a thin shell over the engine facade (each command: parse, call, print)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from engine.errors import (
    InvalidInput,
)

from webapp.cli.bench import bench
from webapp.cli.calendars import calendars
from webapp.cli.output import emit, engine_command, make_app, parse_data, table
from webapp.cli.privacy import privacy
from webapp.cli.tokens import tokens, totp


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """clientflow: BPMN workflows for onboarding, complaints and feedback."""


@main.command()
@engine_command
def init(engine):
    """Create or upgrade the database schema (idempotent)."""
    from flask_migrate import upgrade

    from webapp import MIGRATIONS_DIR

    upgrade(directory=MIGRATIONS_DIR)
    click.echo("database is at the newest schema")


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--key", help="process key (default: the file or folder name)")
@click.option("--each", is_flag=True, help="PATH is a folder of independent processes: deploy each .bpmn file")
@click.option("--as", "as_user", help="deploying user, recorded with the version")
@click.option("--dialect", help="how to read the model: spiff or camunda (default: detected from its namespaces)")
@click.option("--allow-ignored", is_flag=True,
              help="deploy even when an extension that changes behaviour would be ignored (see the compat report)")
@click.option("--json", "as_json", is_flag=True)
@engine_command
def deploy(engine, path, key, each, as_user, dialect, allow_ignored, as_json):
    """Deploy a .bpmn file or a folder (BPMN + DMN + forms); unchanged content keeps its version."""
    if each:
        if not path.is_dir() or key:
            raise InvalidInput("--each takes a folder and no --key (each file's name is its key)")
        if dialect or allow_ignored:
            raise InvalidInput("--dialect and --allow-ignored apply to one bundle; deploy the files one by one")
        results = engine.deploy_each(path, by=as_user)
    else:
        results = [engine.deploy(path, key=key, by=as_user, dialect=dialect, allow_ignored=allow_ignored)]
    payload = results[0].as_dict() if len(results) == 1 and not each else [r.as_dict() for r in results]
    emit(payload, as_json, "\n".join(
        f"{r.key} v{r.version} {'deployed' if r.created else 'unchanged'} ({', '.join(r.process_ids)})"
        + compat_summary(r) for r in results))


def compat_summary(result) -> str:
    """One line per ignored extension, after a count of what the dialect found (nothing for plain models)."""
    if not result.compat:
        return ""
    counts = {h: sum(1 for c in result.compat if c["handling"] == h) for h in ("run", "mapped", "ignored")}
    lines = [f"\n  {result.dialect}: {len(result.compat)} extension(s): {counts['run']} run, "
             f"{counts['mapped']} mapped, {counts['ignored']} ignored"]
    lines += [f"\n  ignored {c['extension']} on {c['element_id']}: {c['reason']}" for c in result.compat
              if c["handling"] == "ignored"]
    return "".join(lines)


@main.command()
@click.option("--all", "all_versions", is_flag=True, help="every version, not just the newest")
@click.option("--json", "as_json", is_flag=True)
@engine_command
def processes(engine, all_versions, as_json):
    """List deployed processes."""
    rows = engine.processes(all_versions)
    emit([p.as_dict() for p in rows], as_json, table(
        [[p.key, p.version, p.name, p.deployed_at.strftime("%Y-%m-%d %H:%M"), p.deployed_by] for p in rows],
        ["KEY", "VERSION", "NAME", "DEPLOYED", "BY"]))


@main.command()
@click.argument("key")
@click.option("--data", help="initial data: a JSON object or @file.json")
@click.option("--as", "as_user", help="user starting the instance")
@click.option("--json", "as_json", is_flag=True)
@engine_command
def start(engine, key, data, as_user, as_json):
    """Start an instance of the newest version of KEY."""
    instance = engine.start(key, parse_data(data), by=as_user)
    payload = {"id": instance.id, "key": instance.key, "version": instance.version, "status": instance.status,
               "reference": instance.reference}
    emit(payload, as_json, f"started instance {instance.id} ({instance.reference}) of {key} "
                           f"v{instance.version}: {instance.status}")
    _fail_on_error(instance)


def _fail_on_error(instance) -> None:
    if instance.status == "error":
        click.echo(f"error: instance {instance.id} stopped: {instance.error}", err=True)
        sys.exit(1)


@main.command()
@click.option("--instance", "instance_id", type=int, help="only this instance's tasks")
@click.option("--user", help="only tasks this user may work on")
@click.option("--json", "as_json", is_flag=True)
@engine_command
def tasks(engine, instance_id, user, as_json):
    """List open human tasks."""
    rows = engine.tasks(instance_id=instance_id, user=user)
    emit([t.as_dict() for t in rows], as_json, table(
        [[t.id, t.instance_id, t.name, t.lane, t.claimed_by, t.due_at.strftime("%Y-%m-%d %H:%M") if t.due_at else ""]
         for t in rows], ["TASK", "INSTANCE", "NAME", "LANE", "CLAIMED BY", "DUE"]))


@main.command()
@click.argument("task_id")
@click.option("--as", "as_user", required=True, help="the user claiming")
@engine_command
def claim(engine, task_id, as_user):
    """Claim a task for a user with its lane's role."""
    task = engine.claim(task_id, as_user)
    click.echo(f"{task.name} ({task.id}) claimed by {task.claimed_by}")


@main.command()
@click.argument("task_id")
@click.option("--as", "as_user", required=True, help="the user who holds the claim")
@engine_command
def unclaim(engine, task_id, as_user):
    """Give a claimed task back to its lane."""
    task = engine.unclaim(task_id, as_user)
    click.echo(f"{task.name} ({task.id}) is back in lane {task.lane or '(none)'}")


@main.command()
@click.argument("task_id")
@click.option("--data", help="form data: a JSON object or @file.json")
@click.option("--as", "as_user", help="the user completing the task")
@click.option("--json", "as_json", is_flag=True)
@engine_command
def complete(engine, task_id, data, as_user, as_json):
    """Complete a task with form data (validated against the task's form)."""
    instance = engine.complete(task_id, parse_data(data), by=as_user)
    emit(instance.as_dict(), as_json, f"completed; instance {instance.id} is {instance.status}")
    _fail_on_error(instance)


@main.command()
@click.argument("instance_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@engine_command
def show(engine, instance_id, as_json):
    """Show an instance: status, data, open tasks, timers, audit trail."""
    detail = engine.instance_detail(instance_id)
    if as_json:
        emit(detail.as_dict(), True)
        return
    i = detail.instance
    lines = [f"instance {i.id} {i.reference or ''} - {i.key} v{i.version} - {i.status}"]
    if i.error:
        lines.append(f"error: {i.error}")
    lines += ["", "data:", json.dumps(detail.data, indent=2, default=str), "", "tasks:",
              table([[t.id, t.name, t.lane, t.claimed_by] for t in detail.tasks], ["TASK", "NAME", "LANE", "CLAIMED"]),
              "", "timers:",
              table([[t.id, t.element_id, t.kind, t.due_at.isoformat(timespec="seconds"),
                      t.fired_at.isoformat(timespec="seconds") if t.fired_at else "",
                      "cancelled" if t.cancelled_at else ""] for t in detail.timers],
                    ["TIMER", "ELEMENT", "KIND", "DUE", "FIRED", ""]),
              "", "events:",
              table([[e.at.isoformat(timespec="seconds"), e.actor, e.kind, e.element_id] for e in detail.events],
                    ["AT", "ACTOR", "EVENT", "ELEMENT"])]
    click.echo("\n".join(lines))


@main.command()
@click.argument("instance_id", type=int)
@click.option("--data", help="data to merge into the failed task before running it again")
@click.option("--as", "as_user")
@engine_command
def retry(engine, instance_id, data, as_user):
    """Run an instance's failed step again (after fixing its data or model)."""
    instance = engine.retry(instance_id, parse_data(data), by=as_user)
    click.echo(f"instance {instance.id} is {instance.status}")
    _fail_on_error(instance)


@main.command()
@click.argument("instance_id", type=int)
@click.option("--reason", default="", help="why, for the audit trail")
@click.option("--as", "as_user")
@engine_command
def cancel(engine, instance_id, reason, as_user):
    """Cancel a running (or failed) instance."""
    instance = engine.cancel(instance_id, by=as_user, reason=reason)
    click.echo(f"instance {instance.id} is {instance.status}")


@main.group()
def users():
    """Manage users, roles and API tokens."""


@users.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, help="a role (= BPMN lane name); repeat for several")
@click.option("--email")
@click.option("--display-name")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@engine_command
def users_add(engine, name, roles, email, display_name, password_stdin):
    """Create or update a user (roles are replaced)."""
    from engine.core.users import save_user

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise InvalidInput("no password on standard input")
    with engine.write_session.begin() as session:
        user = save_user(session, name, list(roles), password=password, display_name=display_name, email=email)
    click.echo(f"user {user.username} has roles: {', '.join(sorted(user.roles)) or '(none)'}")


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
@engine_command
def users_list(engine, as_json):
    """List users and their roles."""
    from engine.core.users import list_users

    with engine.read_session() as session:
        rows = list_users(session)
    emit([u.as_dict() for u in rows], as_json,
         table([[u.username, u.display_name, ", ".join(sorted(u.roles))] for u in rows], ["USER", "NAME", "ROLES"]))


@users.command("token")
@click.argument("name")
@click.option("--label", default="cli", help="a name for the token")
@engine_command
def users_token(engine, name, label):
    """Create an API token for a user with the default scopes and lifetime (printed once; see `tokens create`)."""
    from engine.core.tokens import create_token

    with engine.write_session.begin() as session:
        token, _ = create_token(session, name, label, now=engine.clock.now())
    click.echo(token)


# -- running the pieces (docs/operations.md) ----------------------------------------------------------------

def _log_to_stderr() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("spiff").setLevel(logging.WARNING)  # one line per task state change drowns everything else


def _queue_names(values: tuple[str, ...]) -> list[str]:
    from webapp.worker.queues import QUEUES

    return [name.strip() for value in values for name in value.split(",") if name.strip()] or list(QUEUES)


@main.command()
@click.option("--burst", is_flag=True, help="work until the queues are empty, then exit")
@click.option("-q", "--queues", "queues", multiple=True, metavar="NAMES",
              help="queues to work, in priority order (default: timers,mail); repeat or separate with commas")
@click.option("--name", help="worker name (default: host.pid.random)")
@click.pass_context
def worker(ctx, burst, queues, name):
    """Run an RQ worker for timers and notifications (with RQ's scheduler and the sweeper)."""
    from webapp.cli.serving import die_with_parent_if_asked
    from webapp.connections import redis_url
    from webapp.worker.entry import run_worker

    die_with_parent_if_asked()
    _log_to_stderr()
    app = ctx.obj if ctx.obj is not None else make_app()
    run_worker(app, redis_url(app, start=True), _queue_names(queues), burst=burst, name=name)


@main.command()
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="address:port to listen on")
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes")
@click.option("--threads", default=4, show_default=True, help="threads per gunicorn worker")
@click.option("--insecure-dev", is_flag=True, help="start even with unsafe settings (local use only)")
def serve(bind, workers, threads, insecure_dev):
    """Serve the web app with gunicorn (production); run `clientflow worker` beside it.

    Refuses to start (exit 2) without SECRET_KEY, with the default SQLite file on a non-loopback address, or
    without secure cookies behind HTTPS, unless --insecure-dev."""
    import os

    from webapp.cli.serving import serve as serve_with_gunicorn
    from webapp.cli.serving import unsafe_settings

    problems = unsafe_settings(bind, os.environ)
    if problems and not insecure_dev:
        click.echo("clientflow serve: refusing to start with unsafe settings:", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        click.echo("Fix them (docs/operations.md, \"Security settings\"), or pass --insecure-dev for local use.",
                   err=True)
        sys.exit(2)
    for problem in problems:
        click.echo(f"clientflow serve --insecure-dev: {problem}", err=True)
    serve_with_gunicorn(bind, workers, threads)


@main.command()
@click.option("--demo", is_flag=True, help="deploy processes/, create demo users and start a few instances")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.pass_context
def run(ctx, demo, host, port):
    """Web app + one worker (+ an embedded Redis without REDIS_URL) on this machine, until Ctrl-C."""
    from flask_migrate import upgrade

    from webapp import MIGRATIONS_DIR
    from webapp.cli.serving import run_all

    _log_to_stderr()
    app = ctx.obj if ctx.obj is not None else make_app()
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        if demo:
            _seed_demo(app)
    run_all(app, host, port)


def _seed_demo(app) -> None:
    from webapp.cli.demo import seed_demo

    summary = seed_demo(app.extensions["clientflow"], app.config["PROCESSES_DIR"])
    click.echo(f"demo: deployed {', '.join(summary.deployed) or 'nothing (processes/ holds no .bpmn file)'}")
    click.echo(table([[name, ", ".join(roles), password] for name, (roles, password) in summary.users.items()],
                     ["USER", "ROLES", "PASSWORD"]))
    for line in summary.instances:
        click.echo(f"demo: started {line}")
    for problem in summary.problems:
        click.echo(f"demo: {problem}", err=True)


main.add_command(bench)
main.add_command(calendars)
main.add_command(privacy)
main.add_command(tokens)
users.add_command(totp)
