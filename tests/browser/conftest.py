"""A real server on a free port and Debian's chromium driven by playwright."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import BROWSER_PATIENCE_MS

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "tests" / "webapp" / "fixtures"
PROCESSES = ROOT / "processes"


@pytest.fixture
def screenshots(tmp_path):
    """Where screenshots go: docs/img when CLIENTFLOW_SCREENSHOTS=1 (to refresh the docs), else a temp folder."""
    return ROOT / "docs" / "img" if os.environ.get("CLIENTFLOW_SCREENSHOTS") == "1" else tmp_path


@pytest.fixture
def new_page(chromium, live_server):
    """A fresh browser context (its own cookies) per call, like a second person at another desk."""
    contexts = []

    def make():
        context = chromium.new_context(base_url=live_server, viewport={"width": 1280, "height": 860})
        context.set_default_timeout(BROWSER_PATIENCE_MS)
        contexts.append(context)
        return context.new_page()
    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def sign_in(new_page):
    def as_user(username: str, password: str = "tidal-lantern-orchard-42"):
        page = new_page()
        page.goto("/login")
        page.get_by_label("User name").fill(username)
        page.get_by_label("Password").fill(password)
        page.keyboard.press("Enter")  # the form works from the keyboard
        page.wait_for_url("**/inbox/")
        return page
    return as_user
