"""Security tests: the web app's staff, models and sign-in helpers, the shipped processes, a clock they move."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.webapp.conftest import app_config, open_task, order, signed_in, signoff, staff, token_for  # noqa: F401
from webapp.cli.commands import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shipped(engine):
    """Every shipped process, deployed."""
    engine.deploy_each(ROOT / "processes", by="root")
    return engine


@pytest.fixture
def cli(app):
    """The `clientflow` command on the test app."""
    runner = CliRunner()

    def invoke(*args, input=None, env=None):
        return runner.invoke(main, [str(a) for a in args], obj=app, input=input, env=env)
    return invoke


@pytest.fixture
def cookie_of():
    """The value of a test client's session cookie."""
    def of(client) -> str:
        return client.get_cookie("session").value
    return of
