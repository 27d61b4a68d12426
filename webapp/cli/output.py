"""Output and error helpers shared by every `clientflow` command: JSON or a table, one-line errors, exit codes."""

from __future__ import annotations

import json
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

# Exit codes (docs/cli.md): 0 ok, 1 domain refusal, 2 bad usage or input, 3 not found, 4 conflict.
EXIT_CODES = ((NotFound, 3), (ConcurrentUpdate, 4), (InvalidInput, 2), (InvalidTaskData, 2),
              (InvalidModel, 2), (NotAllowed, 1))


def exit_code(error: ClientflowError) -> int:
    for kind, code in EXIT_CODES:
        if isinstance(error, kind):
            return code
    return 1


def make_app():
    from webapp import create_app

    return create_app()


def engine_command(func):
    """Run the command inside an app context with the engine; domain errors become one line on stderr."""

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
