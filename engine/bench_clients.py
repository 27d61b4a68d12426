"""Several clients at once, as threads of one process and as processes of their own.

A deployment serves its users from several gunicorn worker processes (docs/operations.md), each with a few
threads; the engine's Python runs under one interpreter lock per process. Threads of one process therefore
measure what one worker gets from more requests; processes measure what more workers get. The bench reports both,
against one client measured the same way in the same round.

Client processes are started once (`ClientProcesses`, spawned: they share no connection or thread with the
bench), each opens its own engine on the bench's database and runs its instances when told; the rate is all their
instances over the time from the first start to the last end (monotonic clock, shared by processes on Linux).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.facade import Engine

DataFor = Callable[[str], dict]


def data_for(element_id: str) -> dict[str, Any]:
    """The bench model's form data for a user task (`step_N`)."""
    number = int(element_id.rsplit("_", 1)[1])
    return {f"field_{number}": f"value {number}", "amount": number * 10}


def persisted_instance(engine: Engine, key: str, data_for: DataFor, actor: str | None = None) -> Callable[[], None]:
    """One instance through the engine: start, then every user task listed and completed, each its own transaction."""
    def one() -> None:
        instance = engine.start(key, {"customer_name": "Bench Ltd"}, by=actor)
        while True:
            open_tasks = engine.tasks(instance_id=instance.id)
            if not open_tasks:
                break
            task = open_tasks[0]
            engine.complete(task.id, data_for(task.element_id), by=actor)
    return one


def thread_rate(one: Callable[[], None], threads: int, count: int) -> float:
    """Instances/s with `threads` client threads at once, each running `count` instances."""
    def client() -> None:
        for _ in range(count):
            one()
    running = [threading.Thread(target=client) for _ in range(threads)]
    began = time.perf_counter()
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    return threads * count / (time.perf_counter() - began)


def _server_cpu_seconds() -> float | None:
    """CPU seconds used so far by the PostgreSQL server's processes on this machine (user + system, from /proc);
    None where they cannot be seen (another host, no /proc)."""
    total, seen = 0, False
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return None
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                line = stat.read()
        except OSError:  # ended meanwhile, or not ours to read
            continue
        name, fields = line[line.index("(") + 1:line.rindex(")")], line[line.rindex(")") + 2:].split()
        if name.startswith("postgres"):
            total, seen = total + int(fields[11]) + int(fields[12]), True
    return total / os.sysconf("SC_CLK_TCK") if seen else None


def cpu_per_instance(one: Callable[[], None], count: int, server: bool) -> dict[str, Any]:
    """Wall time and CPU time of one client per instance: the client's own process, and with `server` the
    PostgreSQL server's processes when they run on this machine.

    When one client already keeps about one CPU busy - its Python, then the server's work for it, in turn - `n`
    clients on a machine of `c` CPUs cannot pass `c * wall / cpu` times one client: the bench reports that cap."""
    server_before = _server_cpu_seconds() if server else None
    cpu_before, began = time.process_time(), time.perf_counter()
    for _ in range(count):
        one()
    wall, client = time.perf_counter() - began, time.process_time() - cpu_before
    server_after = _server_cpu_seconds() if server_before is not None else None
    result: dict[str, Any] = {"wall_ms": wall / count * 1000, "client_cpu_ms": client / count * 1000}
    busy = client
    if server_after is not None:
        result["server_cpu_ms"] = (server_after - server_before) / count * 1000
        busy += server_after - server_before
    result["clients_cap"] = (os.cpu_count() or 1) * wall / busy
    return result


def _serve(url: str, key: str, actor: str, orders) -> None:  # pragma: no cover - runs in a spawned process
    """A client process: its own engine on `url`; for each order (a count of instances) it runs them and answers
    (start, end) on the monotonic clock; None ends it."""
    from engine.core.db.database import make_sql_engine
    from engine.facade import Engine

    engine = Engine(make_sql_engine(url))
    one = persisted_instance(engine, key, data_for, actor)
    for _ in range(3):  # warm: the model's cache, kept connections
        one()
    orders.send("ready")
    try:
        while (count := orders.recv()) is not None:
            began = time.monotonic()
            for _ in range(count):
                one()
            orders.send((began, time.monotonic()))
    finally:
        engine.sql_engine.dispose()


class ClientProcesses:
    """Up to `size` client processes on one database, started once and kept for the rounds."""

    def __init__(self, url: str, key: str, actor: str, size: int = 4):
        context = multiprocessing.get_context("spawn")
        self._links, self._processes = [], []
        for _ in range(size):
            ours, theirs = context.Pipe()
            process = context.Process(target=_serve, args=(url, key, actor, theirs), daemon=True)
            process.start()
            self._links.append(ours)
            self._processes.append(process)
        for link, process in zip(self._links, self._processes, strict=True):
            try:
                ready = link.poll(120) and link.recv() == "ready"
            except (EOFError, OSError):  # it died before answering; its traceback is on stderr
                ready = False
            if not ready:
                self.close()
                process.join(5)
                raise RuntimeError(f"a bench client process did not start (exit code {process.exitcode})")

    def rate(self, processes: int, count: int) -> float:
        """Instances/s with `processes` of the clients at once, each running `count` instances."""
        links = self._links[:processes]
        for link in links:
            link.send(count)
        spans = [link.recv() for link in links]
        return processes * count / (max(end for _, end in spans) - min(start for start, _ in spans))

    def close(self) -> None:
        for link in self._links:
            try:
                link.send(None)
            except OSError:
                pass
        for process in self._processes:
            process.join(30)
            if process.is_alive():
                process.kill()

    def __enter__(self) -> ClientProcesses:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()
