"""The shipped processes, a manual clock and one user per role, as in tests/processes."""

from tests.processes.conftest import app_config, clock, shipped, staff  # noqa: F401 - fixtures

