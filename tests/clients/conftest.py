"""The shipped processes, a manual clock and one user per role (as in tests/processes); the browser fixtures."""

from tests.browser.conftest import new_page, screenshots, sign_in  # noqa: F401 - fixtures
from tests.processes.conftest import app_config, clock, shipped, staff  # noqa: F401 - fixtures
