"""`clientflow bench --quick` as a smoke test: every part runs end to end and reports its figures (never timed)."""

import json
import os
from datetime import timedelta

import pytest
from click.testing import CliRunner

from webapp.cli.bench import bench
from webapp.cli.bench.web import Sizes, bench_scaleout
from webapp.config import normalise_database_url

BACKEND = os.environ.get("CLIENTFLOW_TEST_DATABASE", "sqlite")


def run_bench(tmp_path, *args):
    output = tmp_path / "bench-results.json"
    result = CliRunner().invoke(bench, ["--quick", "--output", str(output), *args], env={
        "CLIENTFLOW_BENCH_POSTGRES": "", "CLIENTFLOW_BENCH_REDIS": ""})
    assert result.exit_code == 0, result.output + repr(result.exception)
    return json.loads(output.read_text()), result.output


@pytest.mark.slow
def test_engine_part(tmp_path):
    results, output = run_bench(tmp_path, "--only", "engine")
    assert results["mode"] == "quick" and {"python", "cpus", "when"} <= set(results["machine"])
    engine = results["engine"]
    assert {"raw_per_s", "raw_serialized_per_s", "sqlite_per_s", "sqlite_ratio", "sqlite_bytes_per_instance"} <= set(
        engine)
    assert engine["sqlite_per_s"] > 0 and engine["sqlite_bytes_per_instance"] > 0
    assert engine["sqlite_floor_per_s"] > 0 and 0 < engine["sqlite_ceiling_with_json_ratio"] < engine[
        "sqlite_ceiling_ratio"] < 1
    assert "clientflow persisted, sqlite" in output and "bare sqlite3, the same rows" in output
    growth = engine["growth"]
    assert growth["step_ms_at_10"] > 0 and growth["step_ms_at_1000"] > 0 and growth["step_ratio"] > 0
    sqlite_growth = growth["by_database"]["sqlite"]
    assert sqlite_growth["step_ms_at_1000"] == growth["step_ms_at_1000"]
    assert 0 < sqlite_growth["state_bytes_at_1000"] < 2 * sqlite_growth["state_bytes_at_10"]  # never timed: bytes
    assert "growth, sqlite: a step at 10 finished tasks" in output
    sqlite = engine["sqlite"]  # clients as threads of one process and as processes (gunicorn's workers)
    assert set(sqlite["clients"]) == set(sqlite["client_processes"]) == {"1", "2", "4"}
    assert min(sqlite["client_processes"].values()) > 0 and sqlite["processes_4_to_1"] > 0
    assert "client processes 1:" in output
    cpu = sqlite["cpu"]  # one client's wall and CPU per instance, and the cap they put on more clients
    assert cpu["wall_ms"] > 0 and cpu["client_cpu_ms"] > 0 and cpu["clients_cap"] > 0 and "server_cpu_ms" not in cpu
    assert "sqlite: one client, per instance: wall" in output
    sandbox = engine["sandbox"]
    assert sandbox["isolated_scripts_per_s"] > 0 and sandbox["fast_path_conditions_per_s"] > 0
    assert "Sandbox: scripts" in output


@pytest.mark.slow
def test_web_part_against_gunicorn(tmp_path):
    results, output = run_bench(tmp_path, "--only", "web", "--instances", "200")
    web = results["web"]
    assert web["instances"] == 200 and "postgresql" not in web  # quick mode measures SQLite only
    inbox, complete = web["sqlite"]["inbox"], web["sqlite"]["complete"]
    assert {"p50_ms", "p95_ms", "per_s", "requests"} <= set(inbox) and inbox["failed"] == 0
    assert {"p50_ms", "p95_ms", "per_s", "completions"} <= set(complete) and complete["failed"] == 0
    assert complete["completions"] > 0
    reports = web["sqlite"]["reports"]
    assert {"p50_ms", "p95_ms", "requests"} <= set(reports) and reports["failed"] == 0
    assert "Web: gunicorn" in output and "inbox alone p50" in output
    assert web["sqlite"]["inbox"]["one_at_a_time"]["p50_ms"] > 0


@pytest.mark.slow
def test_scaleout_is_skipped_without_postgresql(tmp_path):
    results, output = run_bench(tmp_path, "--only", "scaleout")
    assert "skipped" in results["scaleout"] and "Scale-out: not measured" in output


@pytest.mark.slow
@pytest.mark.skipif(BACKEND == "sqlite", reason="scale-out runs on PostgreSQL")
def test_scaleout_part_on_postgresql():
    result = bench_scaleout(True, normalise_database_url(BACKEND), sizes=Sizes(100, 0, 20, 2), configs=((1, 1),))
    [run] = result["runs"]
    assert run["failed"] == 0 and run["completed_and_notified_per_s"] is not None
    assert {"completions_per_s", "p95_ms", "notification_delay_p95_ms"} <= set(run)


@pytest.mark.slow
def test_sla_part(tmp_path):
    results, output = run_bench(tmp_path, "--only", "sla", "--instances", "200")
    sla = results["sla"]
    assert sla["due"]["calls"] == 10_000 and sla["due"]["us_per_call"] > 0
    inbox = sla["inbox"]
    assert inbox["open_cases"] == 200 and "postgresql" not in inbox  # quick mode measures SQLite only
    for page in ("inbox", "overdue"):
        figures = inbox["sqlite"][page]
        assert figures["failed"] == 0 and figures["requests"] == 20 and 0 < figures["p50_ms"] <= figures["p95_ms"]
        assert figures["load_1min"] >= 0
    assert "SLA: due on za-office" in output and "overdue p50" in output and "(load " in output


def test_sla_clock_rows_are_real_clocks():
    from datetime import UTC, datetime

    from engine.sla import Clock, shipped_calendars
    from webapp.cli.bench.sla import _clock_rows

    now = datetime(2027, 2, 3, 12, 0, tzinfo=UTC)
    rows = _clock_rows([(n, now - timedelta(hours=7 * n)) for n in range(1, 41)], now)
    states = [r["state"] for r in rows]
    assert states.count("paused") == 4 and states.count("running") == 36
    overdue = [r for r in rows if r["breached"]]
    assert overdue and all(r["escalated"] and r["due_at"] <= now for r in overdue)
    for row in rows:
        clock = Clock.from_dict(row["clock"], shipped_calendars())
        assert clock.due == row["due_at"] and clock.state == row["state"]
