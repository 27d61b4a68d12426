"""Retention: only ended instances past the period are anonymised, by the job, the CLI or RQ."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from rq import Queue, SimpleWorker

from engine import privacy
from engine.errors import InvalidInput
from tests.worker.fixtures import redis_db, run_redis  # noqa: F401 - fixtures are found by name
from webapp.cli.commands import main
from webapp.worker.entry import job_context
from webapp.worker.retention import retention_days, retention_job, schedule_retention

from .scan import traces

OPEN = dict(name="Lerato Dube", email="lerato.dube@example.com", phone="084 333 0303", id_number="9003035007085",
            company="Dube Mining", director="Sello Dube", bank_account="62015555555", comment="Invoice sent twice")


@pytest.fixture
def cli(app):
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, [str(a) for a in args], obj=app, catch_exceptions=False)
    return invoke


def _ended(engine, person) -> list:
    return sorted(engine.instance(i).ended_at for i in person.instances.values())


def test_only_what_is_due_is_anonymised(engine, clock, jane, piet, run_person):
    still_open = run_person(OPEN, finish=False)
    # Thirty days after Jane's cases ended, but not yet thirty days after Piet's.
    clock.set(_ended(engine, jane)[-1] + timedelta(days=30, minutes=1))
    assert _ended(engine, piet)[0] > clock.now() - timedelta(days=30)
    dry = privacy.run_retention(engine, 30, dry_run=True)
    assert sorted(d.id for d in dry.due) == sorted(jane.instances.values()) and dry.anonymised == []
    assert len({t[2] for t in traces(engine, jane.values)}) == len(jane.values)
    run = privacy.run_retention(engine, 30)
    assert sorted(run.anonymised) == sorted(jane.instances.values())
    assert traces(engine, jane.values) == []
    assert len({t[2] for t in traces(engine, piet.values)}) == len(piet.values)
    # Open cases are never due, however old (their documents, director and bank account, are not in yet).
    assert len({t[2] for t in traces(engine, still_open.values)}) == len(still_open.values) - 2
    assert all(engine.instance(i).status == "running" for i in still_open.instances.values())
    events = engine.events(jane.instances["onboarding"])
    assert [e.detail for e in events if e.kind == privacy.ERASED_EVENT] == [
        {"basis": "retention", "request_id": None, "fields": 5}]
    assert privacy.run_retention(engine, 30).due == []  # nothing twice
    clock.advance(hours=3)
    assert sorted(privacy.run_retention(engine, 30).anonymised) == sorted(piet.instances.values())


@pytest.mark.parametrize("days", ["0", "-5", "five", "", None, "3.5"])
def test_a_bad_retention_period_is_refused(engine, days):
    with pytest.raises(InvalidInput, match="CLIENTFLOW_RETENTION_DAYS"):
        privacy.run_retention(engine, days)


def test_the_period_comes_from_the_environment_through_config(app, monkeypatch, tmp_path):
    from webapp.config import from_environment

    monkeypatch.delenv("CLIENTFLOW_RETENTION_DAYS", raising=False)
    assert retention_days(app.config) == 365 * 5
    monkeypatch.setenv("CLIENTFLOW_RETENTION_DAYS", "90")
    assert retention_days(from_environment(tmp_path)) == 90
    app.config["RETENTION_DAYS"] = 30
    assert retention_days(app.config) == 30
    app.config["RETENTION_DAYS"] = "soon"
    with pytest.raises(InvalidInput):
        retention_days(app.config)


def test_the_job_runs_on_a_real_worker_and_schedules_the_next(app, engine, clock, jane, redis_db):  # noqa: F811
    app.config.update(RETENTION_DAYS=30, REDIS_URL=redis_db.url)
    clock.set(_ended(engine, jane)[-1] + timedelta(days=31))
    queue = Queue("mail", connection=redis_db.client)
    with job_context(app, redis_db.client):
        job = queue.enqueue(retention_job, every_hours=24)
        SimpleWorker([queue], connection=redis_db.client).work(burst=True)
        job.refresh()
        assert job.get_status() == "finished", job.latest_result()
        assert sorted(job.return_value()["anonymised"]) == sorted(jane.instances.values())
        scheduled = queue.scheduled_job_registry.get_job_ids()
        assert len(scheduled) == 1 and scheduled[0].endswith((clock.now() + timedelta(hours=24)).strftime("%Y%m%d%H%M"))
        # Scheduling the same run again keeps one job.
        schedule_retention(queue, clock.now() + timedelta(hours=24), every_hours=24)
        assert len(queue.scheduled_job_registry.get_job_ids()) == 1
    assert traces(engine, jane.values) == []


def test_cli_retention_dry_run_then_run(cli, engine, clock, jane):
    clock.set(_ended(engine, jane)[-1] + timedelta(days=31))
    dry = cli("privacy", "retention", "--days", 30, "--dry-run")
    assert dry.exit_code == 0 and "3 instance(s) ended before" in dry.output and "would be anonymised" in dry.output
    assert engine.instance(jane.instances["complaint"]).reference in dry.output
    assert jane.name not in dry.output and traces(engine, [jane.email])
    done = json.loads(cli("privacy", "retention", "--days", 30, "--json").output)
    assert sorted(done["anonymised"]) == sorted(jane.instances.values()) and not done["dry_run"]
    assert traces(engine, [jane.email]) == []
    bad = cli("privacy", "retention", "--days", 0)
    assert bad.exit_code == 2 and "at least 1 day" in bad.output


def test_cli_subject_access(cli, engine, jane, piet, tmp_path, accesses):
    listed = cli("privacy", "sar", jane.email, "--as", "officer")
    assert listed.exit_code == 0
    for instance_id in jane.instances.values():
        assert engine.instance(instance_id).reference in listed.output
    assert "2 message(s)" in listed.output
    bundle = tmp_path / "jane.zip"
    written = cli("privacy", "sar", jane.id_number, "--zip", bundle, "--reason", "SAR-2026-0009", "--as", "officer")
    assert written.exit_code == 0 and bundle.stat().st_size > 0
    record = json.loads(cli("privacy", "sar", jane.email, "--json").output)
    assert len(record["instances"]) == 3 and piet.email not in json.dumps(record)
    assert [a[:3] + a[5:] for a in accesses()] == [
        ("officer", "cli", "search", sorted(jane.instances.values()), "subject access request (CLI)"),
        ("officer", "cli", "export", [jane.instances["complaint"], jane.instances["onboarding"]], "SAR-2026-0009"),
        ("system", "cli", "export", sorted(jane.instances.values()), "subject access request (CLI)")]
    refused = cli("privacy", "sar", "ab")
    assert refused.exit_code == 2 and "e-mail address, ID number or case reference" in refused.output
