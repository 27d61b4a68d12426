"""The web benchmark's HTTP side: a signed-in client, gunicorn started on a free port, clients run in parallel."""


from __future__ import annotations

import http.client
import re
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

from webapp.cli.bench.web_data import AGENT, PASSWORD

# -- HTTP clients -----------------------------------------------------------------------------------------------

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browser:
    """One signed-in staff member over one keep-alive HTTP connection (cookies and the CSRF token kept)."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""
        self.token = ""

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urlencode({**form, "csrf_token": self.token})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # The server closed an idle keep-alive connection before this request reached it: send it again.
            self.connection.close()
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        page = response.read().decode("utf-8", "replace")
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        found = _TOKEN.search(page)
        if found:
            self.token = found.group(1)
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
        return response.status, page

    def sign_in(self, username: str = AGENT) -> Browser:
        self.request("GET", "/login")
        status, _ = self.request("POST", "/login", {"username": username, "password": PASSWORD})
        if status != 302:
            raise RuntimeError(f"the benchmark could not sign in (HTTP {status})")
        self.request("GET", "/inbox/")  # a page with the session's CSRF token
        return self

    def close(self) -> None:
        self.connection.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(env: dict[str, str], workers: int, threads: int, log) -> Iterator[int]:
    """`clientflow serve` on a free port until the block ends; yields the port."""
    import subprocess
    import sys

    from webapp.cli.serving import stop_process

    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "webapp", "serve", "--bind", f"127.0.0.1:{port}",
                                "--workers", str(workers), "--threads", str(threads)], env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        _wait_until_serving(port, process)
        yield port
    finally:
        stop_process(process, timeout=20)


def _wait_until_serving(port: int, process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited at start; see web.log in the scratch folder")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/login")
            if connection.getresponse().status == 200:
                connection.close()
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer in time; see web.log in the scratch folder")


def run_clients(browsers: list[Browser], work: list[list[Callable[[Browser], bool]]]) -> tuple[list[float], float,
                                                                                                 int, float]:
    """Each browser does its list of requests in its own thread.

    Returns the latencies (s), the elapsed time (s), the number of failed requests and when the load began
    (`time.perf_counter()`)."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()

    def client(browser: Browser, jobs: list) -> None:
        for job in jobs:
            began = time.perf_counter()
            ok = job(browser)
            took = time.perf_counter() - began
            with lock:
                latencies.append(took)
                failures[0] += 0 if ok else 1

    threads = [threading.Thread(target=client, args=(b, jobs)) for b, jobs in zip(browsers, work, strict=True)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - began, failures[0], began


def _spread(latencies: list[float]) -> dict[str, float]:
    millis = sorted(s * 1000 for s in latencies)
    if not millis:
        return {}
    cuts = statistics.quantiles(millis, n=100, method="inclusive") if len(millis) > 1 else [millis[0]] * 99
    return {"p50_ms": round(cuts[49], 1), "p95_ms": round(cuts[94], 1), "max_ms": round(millis[-1], 1)}


def _split(items: list, parts: int) -> list[list]:
    return [items[i::parts] for i in range(parts)]


