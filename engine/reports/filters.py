"""Report filters: a date range, a process and a category, checked with a clear message for bad input."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from engine.errors import InvalidInput

DEFAULT_DAYS = 84          # twelve weeks
MAX_DAYS = 3 * 366 + 1     # a range longer than three years is refused
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_CATEGORY = re.compile(r"^[\w .&/-]{1,120}$")


@dataclass(frozen=True)
class Filters:
    """Cases opened from `start` to `end` (both days included, UTC), of one process and one category when set."""

    start: date
    end: date
    process: str | None = None
    category: str | None = None

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), UTC)

    @property
    def until(self) -> datetime:
        """The first moment after the range."""
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)

    def weeks(self) -> list[str]:
        """The Mondays of every ISO week the range touches, as 'YYYY-MM-DD'."""
        monday = self.start - timedelta(days=self.start.weekday())
        return [(monday + timedelta(weeks=n)).isoformat() for n in range((self.end - monday).days // 7 + 1)]

    def as_args(self) -> dict[str, str]:
        """The query-string form of these filters (for links and exports)."""
        args = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        args.update({k: v for k, v in (("process", self.process), ("category", self.category)) if v})
        return args


def _date(args: Mapping[str, str], name: str, default: date) -> date:
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    if not _DATE.match(raw):
        raise InvalidInput(f"`{name}` must be a date written as YYYY-MM-DD, not {raw[:40]!r}")
    try:
        return date.fromisoformat(raw)
    except ValueError as err:
        raise InvalidInput(f"`{name}` is not a real date: {raw}") from err


def parse_filters(args: Mapping[str, str], today: date, processes: Collection[str]) -> Filters:
    """Filters from query-string arguments `from`, `to`, `process`, `category` (defaults: the last twelve weeks)."""
    end = _date(args, "to", today)
    start = _date(args, "from", end - timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        raise InvalidInput(f"`from` ({start}) must not be after `to` ({end})")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput("the date range may span at most three years")
    process = (args.get("process") or "").strip() or None
    if process is not None and process not in processes:
        raise InvalidInput(f"there is no process {process[:120]!r}; choose one of: {', '.join(sorted(processes))}")
    category = (args.get("category") or "").strip() or None
    if category is not None and not _CATEGORY.match(category):
        raise InvalidInput("`category` may hold at most 120 letters, digits, spaces and . & / - _")
    return Filters(start, end, process, category)


def parse_month(value: str | None, today: date) -> tuple[date, date]:
    """The first and last day of a 'YYYY-MM' month (default: the month of `today`, so far)."""
    if not value:
        value = f"{today.year:04d}-{today.month:02d}"
    found = _MONTH.match(value.strip())
    if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1:
        raise InvalidInput(f"`month` must be written as YYYY-MM, not {value[:40]!r}")
    first = date(int(found.group(1)), int(found.group(2)), 1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def shift_month(first: date, months: int) -> str:
    """The 'YYYY-MM' of the month `months` before (negative) or after the month starting on `first`."""
    index = first.year * 12 + first.month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"
