"""Starting the pieces: gunicorn for production (`serve`), everything on one machine (`run`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence

from flask import Flask

from webapp.connections import redis_url


def share_redis(app: Flask) -> str:
    """Make sure the app has a Redis URL other processes can use: `REDIS_URL`, or the embedded server's socket.

    An embedded server started here is stopped when this process exits."""
    url = redis_url(app, start=True)
    app.config["REDIS_URL"] = url
    os.environ["REDIS_URL"] = url  # gunicorn's and our worker processes inherit it
    return url


def worker_environment(app: Flask) -> dict[str, str]:
    """The environment a worker process needs to share this app's database, Redis and instance folder."""
    return {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": share_redis(app),
            "CLIENTFLOW_INSTANCE_PATH": app.instance_path}


PARENT_ENV = "CLIENTFLOW_DIE_WITH_PARENT"


def start_worker(env: dict[str, str], args: Sequence[str] = (), output=None) -> subprocess.Popen:
    """`clientflow worker` as a child process (its log to `output`, a file, when given) that ends with this one."""
    return subprocess.Popen([sys.executable, "-m", "webapp", "worker", *args],
                            env={**env, PARENT_ENV: str(os.getpid())}, stdout=output,
                            stderr=subprocess.STDOUT if output else None)


def die_with_parent_if_asked() -> None:
    """In a worker started by `start_worker`: end (SIGTERM, so the job at hand finishes) when that parent dies, even
    by `kill -9`."""
    parent = os.environ.pop(PARENT_ENV, None)
    if not parent:
        return
    from webapp.worker.entry import die_with_parent

    die_with_parent(signal.SIGTERM)
    if os.getppid() != int(parent):  # the parent died before the request took effect
        sys.exit(0)


def stop_process(process: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM (RQ finishes the job at hand), then SIGKILL if it does not stop in time."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _stop_on_sigterm(signum, frame) -> None:
    raise KeyboardInterrupt  # unwinds `run_all` like Ctrl-C, so its children are stopped


def run_all(app: Flask, host: str, port: int) -> None:
    """The web app on the Flask development server, plus one worker process, until Ctrl-C or SIGTERM; both stop
    the worker (which stops its scheduler) and the embedded Redis before returning."""
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    worker = start_worker(worker_environment(app))
    try:
        app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
    except KeyboardInterrupt:
        pass
    finally:
        stop_process(worker)
        signal.signal(signal.SIGTERM, previous)


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
TRUE = ("1", "true", "yes")


def unsafe_settings(bind: str, env: Mapping[str, str]) -> list[str]:
    """What makes a production start unsafe, each with the setting that fixes it (empty when all is well)."""
    host = bind.rsplit(":", 1)[0] if ":" in bind and not bind.startswith("unix:") else bind
    exposed = not bind.startswith("unix:") and host not in LOOPBACK_HOSTS
    secure_cookies = env.get("CLIENTFLOW_SECURE_COOKIES", "").lower() in TRUE
    https = (env.get("CLIENTFLOW_PUBLIC_URL") or "").lower().startswith("https://")
    problems = []
    if not env.get("SECRET_KEY"):
        problems.append("SECRET_KEY is not set: set it to a long random value (e.g. `python -c 'import secrets; "
                        "print(secrets.token_hex(32))'`), the same for every web and worker process")
    if exposed and not env.get("DATABASE_URL"):
        problems.append(f"DATABASE_URL is not set, so the default SQLite file would be served on {bind}: set "
                        "DATABASE_URL to your PostgreSQL database (postgresql://user:password@host/name)")
    if (https or exposed) and not secure_cookies:
        problems.append("session cookies would be sent without the Secure flag"
                        + (" although CLIENTFLOW_PUBLIC_URL is https" if https else f" on {bind}")
                        + ": serve behind HTTPS and set CLIENTFLOW_SECURE_COOKIES=1")
    return problems


def serve(bind: str, workers: int, threads: int) -> None:
    """The web app under gunicorn; gunicorn's worker processes each build their own app."""
    from gunicorn.app.base import BaseApplication

    from webapp import create_app

    if not os.environ.get("REDIS_URL"):
        # Start the embedded Redis once, here, rather than racing to start it in every gunicorn worker.
        master_app = create_app()
        share_redis(master_app)

    class Gunicorn(BaseApplication):
        def load_config(self):
            for key, value in {"bind": bind, "workers": workers, "threads": threads,
                               "worker_class": "gthread" if threads > 1 else "sync"}.items():
                self.cfg.set(key, value)

        def load(self):
            return create_app()

    Gunicorn().run()
