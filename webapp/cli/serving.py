"""Starting the pieces: gunicorn for production (`serve`), everything on one machine (`run`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence

from flask import Flask

from webapp.worker.queues import redis_url


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


def start_worker(env: dict[str, str], args: Sequence[str] = (), output=None) -> subprocess.Popen:
    """`clientflow worker` as a child process (its log to `output`, a file, when given)."""
    return subprocess.Popen([sys.executable, "-m", "webapp", "worker", *args], env=env, stdout=output,
                            stderr=subprocess.STDOUT if output else None)


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


def run_all(app: Flask, host: str, port: int) -> None:
    """The web app on the Flask development server, plus one worker process, until Ctrl-C."""
    worker = start_worker(worker_environment(app))
    try:
        app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
    finally:
        stop_process(worker)


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
