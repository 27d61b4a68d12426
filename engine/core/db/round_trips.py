"""Counting PostgreSQL round trips in libpq's protocol trace: each time the client sent and then waited.

libpq can write every protocol message a connection sends (`F`) and receives (`B`) to a file (`PQtrace`). A
round trip is a run of messages sent followed by one of messages received, so counting the places where a
received message follows a sent one counts round trips exactly, whatever code sent the statements (our
`Prepared` statements, SQLAlchemy, psycopg's own `BEGIN`/`COMMIT`, pipelined batches, pings). Each connection
traces to a file of its own, so connections used by several threads do not mix. For the benchmark and the
tests, never in production: the trace writes every message, states included.
"""

from __future__ import annotations

import os
import tempfile

from sqlalchemy import event
from sqlalchemy.engine import Engine as SqlEngine


class RoundTrips:
    """Counts round trips on the connections an engine opens from now on (dispose the engine first to trace
    every connection it uses)."""

    def __init__(self, sql_engine: SqlEngine):
        if sql_engine.dialect.name != "postgresql":
            raise ValueError(f"round trips are counted on PostgreSQL only, not {sql_engine.dialect.name}")
        self._engine = sql_engine
        self._traces: list[tuple[object, int, str]] = []  # (psycopg connection, descriptor, path)
        self._offsets: dict[str, int] = {}
        event.listen(sql_engine, "connect", self._trace)

    def _trace(self, dbapi_connection, _record) -> None:
        fd, path = tempfile.mkstemp(prefix="clientflow-trace-")
        _start(dbapi_connection, fd)
        self._traces.append((dbapi_connection, fd, path))

    def _flush(self) -> None:
        # libpq buffers its trace; untracing flushes it, and tracing again goes on where it stopped.
        for connection, fd, _path in self._traces:
            if not connection.closed:
                connection.pgconn.untrace()
                _start(connection, fd)

    def count(self) -> int:
        """Round trips since this counter was made (or since the last `reset`)."""
        self._flush()
        total = 0
        for _connection, _fd, path in self._traces:
            with open(path, "rb") as trace:
                trace.seek(self._offsets.get(path, 0))
                sending = False
                for line in trace:
                    if line.startswith(b"F\t"):
                        sending = True
                    elif line.startswith(b"B\t") and sending:
                        total += 1
                        sending = False
        return total

    def reset(self) -> None:
        self._flush()
        self._offsets = {path: os.path.getsize(path) for _connection, _fd, path in self._traces}

    def close(self) -> None:
        event.remove(self._engine, "connect", self._trace)
        for connection, fd, path in self._traces:
            if not connection.closed:
                connection.pgconn.untrace()
            os.close(fd)
            os.unlink(path)
        self._traces.clear()


def _start(connection, fd: int) -> None:
    from psycopg import pq

    connection.pgconn.trace(fd)
    connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)  # lines start with F or B
