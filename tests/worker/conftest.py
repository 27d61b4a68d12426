"""Worker tests run real RQ workers against a real Redis, the run's database and (for mail) a real SMTP server."""

from tests.worker.fixtures import (  # noqa: F401 - fixtures are found by name
    app_config,
    models,
    redis_db,
    run_redis,
    smtp_server,
    start_worker,
    worker_env,
)
