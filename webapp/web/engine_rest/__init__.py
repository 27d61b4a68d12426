"""`/engine-rest`: Camunda 7's REST shape for external-task workers and clients (see blueprint.py)."""

from webapp.web.engine_rest import external_tasks, processes  # noqa: F401 - their routes register on `bp`
from webapp.web.engine_rest.blueprint import bp

__all__ = ["bp"]
