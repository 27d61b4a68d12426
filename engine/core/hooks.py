"""Extension points a feature registers on the kernel without the kernel importing it.

The facade registers them once per `Services`: row writers run inside each save's transaction (so derived rows
such as SLA clocks commit or roll back with the state), and `business_due` turns a timer that names a calendar
into a due time counted in business hours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

RowWriter = Callable[[Any, Any], None]  # (connection, unit of work) -> None
BusinessDue = Callable[[str, datetime, str], datetime]  # (calendar name, start, ISO duration) -> due instant


@dataclass
class Hooks:
    """The registered extensions of one `Services`."""

    row_writers: list[RowWriter] = field(default_factory=list)
    business_due: BusinessDue | None = None


def hooks_of(services: Any) -> Hooks:
    """The hooks of a `Services` object (made on first use, so `Services` needs no field for them)."""
    hooks = getattr(services, "kernel_hooks", None)
    if hooks is None:
        hooks = Hooks()
        services.kernel_hooks = hooks
    return hooks
