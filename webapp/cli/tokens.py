"""`clientflow tokens ...` (API tokens: create with scopes and an expiry, list, revoke) and `users totp`."""

from __future__ import annotations

import click
from engine.core import tokens as engine_tokens
from engine.core import totp as engine_totp
from engine.core import users as engine_users

from webapp.cli.output import emit, engine_command, table


@click.group()
def tokens():
    """API tokens: create, list, revoke."""


@tokens.command("create")
@click.argument("user")
@click.option("--label", default="cli", help="a name for the token")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(engine_tokens.SCOPES),
              help="what it may do; repeat for several (default: read, work, start)")
@click.option("--days", type=int, default=engine_tokens.DEFAULT_DAYS, show_default=True, help="days until it expires")
@click.option("--process", "process_keys", multiple=True, help="only this process key; repeat for several")
@engine_command
def tokens_create(engine, user, label, scopes, days, process_keys):
    """Create a token for USER (the secret is printed once, then only its hash is kept)."""
    with engine.write_session.begin() as session:
        secret, view = engine_tokens.create_token(session, user, label, now=engine.clock.now(),
                                                  scopes=list(scopes) or None, days=days,
                                                  process_keys=list(process_keys) or None)
    click.echo(secret)
    click.echo(f"token {view.id} of {view.username}: scopes {', '.join(view.scopes)}; processes "
               f"{', '.join(view.process_keys) if view.process_keys else 'all'}; expires "
               f"{view.expires_at:%Y-%m-%d %H:%M} UTC", err=True)


@tokens.command("list")
@click.option("--user", help="only this user's tokens")
@click.option("--json", "as_json", is_flag=True)
@engine_command
def tokens_list(engine, user, as_json):
    """List tokens (never their secrets): scopes, processes, expiry, last use, state."""
    now = engine.clock.now()
    with engine.read_session() as session:
        rows = engine_tokens.list_tokens(session, user)
    emit([t.as_dict(now) for t in rows], as_json, table(
        [[t.id, t.username, t.name, ",".join(t.scopes), ",".join(t.process_keys) if t.process_keys else "all",
          f"{t.expires_at:%Y-%m-%d}" if t.expires_at else "never", t.state(now)] for t in rows],
        ["ID", "USER", "LABEL", "SCOPES", "PROCESSES", "EXPIRES", "STATE"]))


@tokens.command("revoke")
@click.argument("token_id", type=int)
@engine_command
def tokens_revoke(engine, token_id):
    """Revoke a token for good: it answers 401 from now on."""
    with engine.write_session.begin() as session:
        view = engine_tokens.revoke(session, token_id, engine.clock.now())
    click.echo(f"revoked token {view.id} ({view.name or 'no label'}) of {view.username}")


@click.command("totp")
@click.argument("name")
@click.option("--remove", is_flag=True, help="remove the second factor instead")
@engine_command
def totp(engine, name, remove):
    """Enrol NAME in TOTP sign-in codes (prints the key and otpauth address for an authenticator app)."""
    secret = None if remove else engine_totp.new_secret()
    with engine.write_session.begin() as session:
        engine_users.set_totp_secret(session, name, secret)
    if remove:
        click.echo(f"{name} signs in with a password only (unless a role needs a code: then they enrol again)")
        return
    click.echo(f"key: {secret}")
    click.echo(engine_totp.provisioning_uri(secret, name))
