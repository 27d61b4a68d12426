"""clientflow's workflow core. Never imports Flask; see README.md in this folder."""

from engine.clock import ManualClock, SystemClock
from engine.core.db.database import make_sql_engine
from engine.core.db.models import Base
from engine.facade import Engine

__all__ = ["Base", "Engine", "ManualClock", "SystemClock", "make_sql_engine"]
