"""A real server on a free port and Debian's chromium driven by playwright."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CLIENTFLOW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "tests" / "webapp" / "fixtures"
PROCESSES = ROOT / "processes"


@pytest.fixture
def screenshots(tmp_path):
    """Where screenshots go: docs/img when CLIENTFLOW_SCREENSHOTS=1 (to refresh the docs), else a temp folder."""
    return ROOT / "docs" / "img" if os.environ.get("CLIENTFLOW_SCREENSHOTS") == "1" else tmp_path


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """Argon2 at its smallest cost: signing in is not what these tests measure."""
    from argon2 import PasswordHasher

    from engine import users

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def live_server(app):
    """The app served by werkzeug in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def chromium():
    if not shutil.which(CHROMIUM):
        message = f"{CHROMIUM} is missing: run `make browser-deps`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium, live_server):
    """A fresh browser context (its own cookies) per call, like a second person at another desk."""
    contexts = []

    def make():
        context = chromium.new_context(base_url=live_server, viewport={"width": 1280, "height": 860})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()
    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def sign_in(new_page):
    def as_user(username: str, password: str = "password123"):
        page = new_page()
        page.goto("/login")
        page.get_by_label("User name").fill(username)
        page.get_by_label("Password").fill(password)
        page.keyboard.press("Enter")  # the form works from the keyboard
        page.wait_for_url("**/inbox/")
        return page
    return as_user
