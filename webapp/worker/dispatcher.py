"""The last stretch to a timer's due time, held in the worker process.

RQ's scheduler works in whole seconds, so timer jobs are scheduled a little before the due time (the timer lead,
webapp/worker/scheduling.py). A job that finds its timer not yet due hands it to this dispatcher, which fires it in the
worker process when the clock reaches the due time: on time to the millisecond, and without a second trip
through Redis. Firing goes through the engine like the job, so it is just as idempotent.

The leases of held timers name this worker; if it dies, its heartbeat stops and a live worker's sweeper takes them
over within seconds. A worker that stops normally hands them back to RQ's scheduler first.
"""

from __future__ import annotations

import heapq
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

log = logging.getLogger(__name__)

class Dispatcher(threading.Thread):
    """Calls `fire(timer_id)` for each held timer when the clock reaches its due time; `fallback(timer_id)`
    when firing raised (e.g. the database was briefly unreachable).

    Timers due together fire on a few threads at once: a firing mostly waits for the database, and a burst of
    due timers should not queue behind one another's commits."""

    def __init__(self, clock, fire: Callable[[int], object], fallback: Callable[[int], object], *,
                 threads: int = 4, name: str = "clientflow-dispatcher"):
        super().__init__(name=name, daemon=True)
        self.clock = clock
        self.fire = fire
        self.fallback = fallback
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"{name}-fire")
        self._held: list[tuple[datetime, int]] = []
        self._changed = threading.Condition()
        self._stopped = False

    def hold(self, timer_id: int, due: datetime) -> bool:
        """Keep a timer until it is due; False when the dispatcher is not running (schedule it elsewhere then)."""
        with self._changed:
            if self._stopped or not self.is_alive():
                return False
            heapq.heappush(self._held, (due, timer_id))
            self._changed.notify()
        return True

    def run(self) -> None:
        while True:
            with self._changed:
                while not self._stopped and not self._due_now():
                    wait = (self._held[0][0] - self.clock.now()).total_seconds() if self._held else None
                    self._changed.wait(wait)
                if self._stopped:
                    return
                timer_id = heapq.heappop(self._held)[1]
            self._pool.submit(self._fire, timer_id)

    def _fire(self, timer_id: int) -> None:
        try:
            self.fire(timer_id)
        except Exception:  # noqa: BLE001 - never lose a timer to one bad moment: hand it to a queued job
            log.exception("firing held timer %s failed; handing it to a queued job", timer_id)
            self._fall_back(timer_id)

    def _fall_back(self, timer_id: int) -> None:
        try:
            self.fallback(timer_id)
        except Exception:  # noqa: BLE001 - its lease runs out and the sweeper schedules it again
            log.exception("could not hand timer %s to a queued job; the sweeper will", timer_id)

    def _due_now(self) -> bool:
        return bool(self._held) and self._held[0][0] <= self.clock.now()

    def stop(self) -> list[tuple[int, datetime]]:
        """Stop and return the timers still held, as (id, due), for the caller to schedule again."""
        with self._changed:
            self._stopped = True
            self._changed.notify()
            held, self._held = self._held, []
        if self.is_alive():
            self.join(5)
        self._pool.shutdown(wait=True)  # timers being fired right now finish first
        return [(timer_id, due) for due, timer_id in held]
