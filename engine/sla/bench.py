"""Micro-benchmark of `due` on the shipped `za-office` calendar (per-call microseconds)."""

import random
import time
from datetime import datetime, timedelta

from .calendar import due
from .catalogue import shipped_calendars


def bench_due(n: int = 100_000, seed: int = 2026) -> float:
    """Mean microseconds per `due` call: starts over 2026-2027, durations 1 minute to 10 business days."""
    calendar = shipped_calendars()["za-office"]
    rng = random.Random(seed)
    first = datetime(2026, 1, 1, tzinfo=calendar.tzinfo)
    span_minutes = 2 * 365 * 24 * 60
    longest = int(10 * calendar.business_day / timedelta(minutes=1))
    cases = [(first + timedelta(minutes=rng.randrange(span_minutes), seconds=rng.randrange(60)),
              timedelta(minutes=rng.randint(1, longest))) for _ in range(n)]
    began = time.perf_counter()
    for start, duration in cases:
        due(calendar, start, duration)
    return (time.perf_counter() - began) / n * 1e6


if __name__ == "__main__":
    print(f"due on za-office: {bench_due():.2f} µs per call")
