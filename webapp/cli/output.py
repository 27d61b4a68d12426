"""Output and error helpers shared by every `clientflow` command: JSON or a table, one-line errors, exit codes."""

from __future__ import annotations

import json
import logging
from functools import wraps
from pathlib import Path
from typing import Any

import click
from engine.errors import (
    ClientflowError,
    ConcurrentUpdate,
    InvalidInput,
    InvalidModel,
    InvalidTaskData,
    NotAllowed,
    NotFound,
)

# Exit codes (docs/cli.md): 0 ok, 1 domain refusal, 2 bad usage or input, 3 not found, 4 conflict, 70 a fault of
# ours (a bug or an unreachable database), reported in one line with its traceback in the log.
INTERNAL_ERROR = 70
EXIT_CODES = ((NotFound, 3), (ConcurrentUpdate, 4), (InvalidInput, 2), (InvalidTaskData, 2),
              (InvalidModel, 2), (NotAllowed, 1))

log = logging.getLogger("webapp.cli")


def _log_fault(instance_path: str, command: str) -> Path:
    """Append the traceback of the exception being handled to `instance/cli-errors.log`; returns the file."""
    path = Path(instance_path) / "cli-errors.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.propagate = False
    try:
        log.exception("clientflow %s failed", command)
    finally:
        log.removeHandler(handler)
        handler.close()
    return path


def exit_code(error: ClientflowError) -> int:
    for kind, code in EXIT_CODES:
        if isinstance(error, kind):
            return code
    return 1


def make_app():
    from webapp import create_app

    return create_app()


def engine_command(func):
    """Run the command inside an app context with the engine; any error becomes one line on stderr and its exit
    code: a domain error says what to change, anything else is our fault (exit 70, traceback logged)."""

    @click.pass_context
    @wraps(func)
    def wrapper(ctx, *args, **kwargs):
        app = ctx.obj if ctx.obj is not None else make_app()
        ctx.obj = app
        with app.app_context():
            try:
                return func(app.extensions["clientflow"], *args, **kwargs)
            except ClientflowError as err:
                click.echo(f"error: {err}", err=True)
                ctx.exit(exit_code(err))
            except (click.exceptions.Exit, click.ClickException, click.Abort):
                raise
            except Exception as err:  # noqa: BLE001 - the one place the CLI turns a fault into a line and a code
                where = _log_fault(app.instance_path, ctx.info_name)
                first_line = (str(err).strip().splitlines() or [""])[0]
                click.echo(f"error: internal error ({err.__class__.__name__}: {first_line}); traceback in {where}",
                           err=True)
                ctx.exit(INTERNAL_ERROR)
    return wrapper


def parse_data(value: str | None) -> dict[str, Any]:
    """`--data` takes a JSON object, or @FILE holding one."""
    if value is None:
        return {}
    source = "--data"
    if value.startswith("@"):
        path = Path(value[1:])
        source = str(path)
        try:
            value = path.read_text(encoding="utf-8")
        except OSError as err:
            raise InvalidInput(f"cannot read {path}: {err.strerror}") from err
    try:
        data = json.loads(value)
    except json.JSONDecodeError as err:
        raise InvalidInput(f"{source} is not valid JSON: {err.msg} (line {err.lineno}, column {err.colno})") from err
    if not isinstance(data, dict):
        raise InvalidInput(f"{source} must be a JSON object, not {type(data).__name__}")
    return data


def emit(data: Any, as_json: bool, text: str | None = None) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    elif text is not None:
        click.echo(text)


def table(rows: list[list[Any]], headers: list[str]) -> str:
    if not rows:
        return "(none)"
    cells = [[str(c) if c is not None else "" for c in r] for r in [headers, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
