"""Reliability tests: workers killed, Redis flushed, mail server down; nothing may be lost or done twice."""

from tests.worker.fixtures import (  # noqa: F401 - fixtures are found by name
    app_config,
    models,
    redis_db,
    run_redis,
    smtp_server,
    start_worker,
    worker_env,
)
