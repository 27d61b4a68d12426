"""clientflow's workflow core. Never imports Flask; see README.md in this folder."""

from .clock import ManualClock, SystemClock
from .database import make_sql_engine
from .models import Base
from .runtime import Engine

__all__ = ["Base", "Engine", "ManualClock", "SystemClock", "make_sql_engine"]
