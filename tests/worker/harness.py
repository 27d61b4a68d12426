"""Real parts for the worker and reliability tests: a Redis database of the run's own, worker processes,
an SMTP server, and small BPMN models with timers and notifications.

Redis: with `REDIS_URL` set (CI: the machine's 127.0.0.1:6379) the run claims an empty database numbered 5..15 with a
marker key and only ever flushes a database it claimed; without it, the run starts an embedded Redis of its own.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from redis import Redis

from webapp.worker.queues import EmbeddedRedis

CLAIM_KEY = "clientflow:test-run"
CLAIMABLE_DATABASES = range(5, 16)

BPMN_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs_{key}"
                  targetNamespace="http://bpmn.io/schema/bpmn">
"""

# A task waiting for someone, with a non-interrupting reminder after `delay`; the reminder's script counts, and
# can spin for `hold` seconds so a test can kill a worker in the middle of a timer job.
REMINDER_BPMN = BPMN_HEAD.format(key="reminder") + """
  <bpmn:process id="reminder" name="Reminder" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="wait" name="Wait for someone">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="remind" name="Reminder" cancelActivity="false" attachedToRef="wait">
      <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition id="remind_timer">
        <bpmn:timeDuration>delay</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:scriptTask id="count" name="Count reminder">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:script>started = datetime.now()
while (datetime.now() - started).total_seconds() &lt; hold:
    pass
del started
reminders = reminders + 1</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="reminded"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />
    <bpmn:sequenceFlow id="f3" sourceRef="remind" targetRef="count" />
    <bpmn:sequenceFlow id="f4" sourceRef="count" targetRef="reminded" />
  </bpmn:process>
</bpmn:definitions>
"""

# Sends one notification at the start, then waits for someone.
NOTICE_BPMN = BPMN_HEAD.format(key="notice") + """
  <bpmn:process id="notice" name="Notice" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="send" name="Send notice">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>notify(template, email, reference=reference, name=name)</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="wait" name="Wait">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="send" />
    <bpmn:sequenceFlow id="f2" sourceRef="send" targetRef="wait" />
    <bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""

MODELS = {"reminder": REMINDER_BPMN, "notice": NOTICE_BPMN}


def write_models(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for key, text in MODELS.items():
        paths[key] = folder / f"{key}.bpmn"
        paths[key].write_text(text)
    return paths


def wait_until(condition: Callable[[], object], timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll until `condition()` is truthy; returns its value, or fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# -- Redis ---------------------------------------------------------------------------------------------------

class RunRedis:
    """A Redis database this run owns: a claimed numbered database of a shared server, or an embedded server."""

    def __init__(self, url: str, token: str, server: EmbeddedRedis | None = None):
        self.url = url
        self.token = token
        self.server = server
        self.client = Redis.from_url(url)

    def owned(self) -> bool:
        return self.server is not None or self.client.get(CLAIM_KEY) == self.token.encode()

    def flush(self) -> None:
        """Empty the database (only ever one this run owns) and keep the claim on it."""
        assert self.owned(), "refusing to flush a Redis database this test run does not own"
        self.client.flushdb()
        if self.server is None:
            self.client.set(CLAIM_KEY, self.token, ex=3600)

    def release(self) -> None:
        if self.server is not None:
            self.server.stop()
        elif self.owned():
            self.client.flushdb()
        self.client.close()


def claim_redis(folder: Path) -> RunRedis:
    token = uuid.uuid4().hex
    shared = os.environ.get("REDIS_URL")
    if not shared:
        server = EmbeddedRedis(folder)
        server.start()
        return RunRedis(server.url, token, server)
    parts = urlsplit(shared)
    for number in CLAIMABLE_DATABASES:
        url = urlunsplit((parts.scheme, parts.netloc, f"/{number}", parts.query, parts.fragment))
        client = Redis.from_url(url)
        try:
            if client.set(CLAIM_KEY, token, nx=True, ex=3600):
                if client.dbsize() == 1:
                    return RunRedis(url, token)
                client.delete(CLAIM_KEY)  # someone else's data lives here: leave it alone
        finally:
            client.close()
    raise RuntimeError(f"no empty Redis database among {CLAIMABLE_DATABASES} at {shared}")


# -- worker processes ----------------------------------------------------------------------------------------

class WorkerProcess:
    """`clientflow worker` in a process group of its own (RQ's scheduler is a child of it)."""

    def __init__(self, env: dict[str, str], log_path: Path, args=()):
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "webapp", "worker", *args], env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole group: the worker and its scheduler die together, as in a crashed container."""
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass
        if sig == signal.SIGKILL:
            self.process.wait(10)

    def stop(self) -> None:
        if self.alive():
            self.kill(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
        else:
            self.kill(signal.SIGKILL)  # a scheduler child may outlive its worker
        self._log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


# -- SMTP ----------------------------------------------------------------------------------------------------

REJECTED_PREFIX = "nobody@"
REJECTION = "550 5.1.1 Recipient address rejected: no such user here"


class MailRecorder:
    """aiosmtpd handler: keeps every accepted message, refuses recipients starting with `nobody@`."""

    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith(REJECTED_PREFIX):
            return REJECTION
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server (aiosmtpd) on a fixed local port that can be started late, to play 'down, then up'."""

    def __init__(self):
        self.port = free_port()
        self.recorder = MailRecorder()
        self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?timeout=5"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self):
        return self.recorder.messages


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
