"""Fixtures shared by tests/worker and tests/reliability (each conftest imports them)."""

from __future__ import annotations

import os

import pytest

from tests.worker.harness import SmtpServer, WorkerProcess, claim_redis, wait_until, write_models

SWEEP_INTERVAL = 0.5
# How long a test waits for a real worker process to start or to finish its work. Generous: the waits end as soon as
# the condition holds, and a fresh-clone CI run on a loaded 2-CPU machine takes many times longer than a laptop to
# start a worker (imports) or run a job.
PATIENCE = 60
JOB_LEASE_SECONDS = 3
MAIL_RETRY_INTERVALS = [1, 1, 1, 1, 1]


@pytest.fixture(scope="session")
def run_redis(tmp_path_factory):
    """The Redis database of this test run (see harness.claim_redis)."""
    owned = claim_redis(tmp_path_factory.mktemp("redis"))
    yield owned
    owned.release()


@pytest.fixture
def redis_db(run_redis):
    """The run's Redis database, emptied for this test (leases and jobs of an earlier test would leak in)."""
    run_redis.flush()
    return run_redis


@pytest.fixture
def app_config(app_config, redis_db):
    return {**app_config, "REDIS_URL": redis_db.url, "SCHEDULE_JOBS": True, "SWEEP_INTERVAL": SWEEP_INTERVAL,
            "JOB_LEASE_SECONDS": JOB_LEASE_SECONDS, "MAIL_RETRY_INTERVALS": MAIL_RETRY_INTERVALS}


@pytest.fixture
def worker_env(app_config, database_url, instance_path):
    """What a worker process needs to share this test's database, Redis, instance folder and settings."""
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": app_config["REDIS_URL"],
           "CLIENTFLOW_INSTANCE_PATH": str(instance_path), "SECRET_KEY": app_config["SECRET_KEY"],
           "CLIENTFLOW_SWEEP_INTERVAL": str(SWEEP_INTERVAL), "CLIENTFLOW_JOB_LEASE_SECONDS": str(JOB_LEASE_SECONDS),
           "CLIENTFLOW_MAIL_RETRY_INTERVALS": ",".join(map(str, app_config["MAIL_RETRY_INTERVALS"])),
           "CLIENTFLOW_SCRIPT_TIME_LIMIT": "30"}
    env.pop("SMTP_URL", None)
    if app_config.get("SMTP_URL"):
        env["SMTP_URL"] = app_config["SMTP_URL"]
    return env


@pytest.fixture
def start_worker(worker_env, redis_db, tmp_path):
    """Start `clientflow worker` processes; each is stopped (and its log shown on failure) after the test."""
    started = []

    def start(name: str | None = None, *, ready: bool = True, env: dict | None = None) -> WorkerProcess:
        name = name or f"w{len(started) + 1}"
        worker = WorkerProcess(env or worker_env, tmp_path / f"worker-{name}.log", ["--name", name])
        started.append(worker)
        if ready:
            wait_until(lambda: redis_db.client.exists(f"rq:worker:{name}") or not worker.alive(), PATIENCE,
                       what=f"worker {name} to start")
            assert worker.alive(), worker.output()
        return worker

    yield start
    for worker in started:
        worker.stop()
        print(f"--- {worker.log_path.name} (last lines) ---")
        print("\n".join(worker.output().splitlines()[-40:]))


@pytest.fixture
def models(engine, tmp_path):
    """The test models (reminder timer, notice mail), deployed."""
    for path in write_models(tmp_path / "models").values():
        engine.deploy(path)
    return engine


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    yield server
    server.stop()
