"""`clientflow bench`: one command measuring the engine (and, when present, timers and web) in one run."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

import click
from engine.bench import bench_engine


def _machine() -> dict:
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "when": datetime.now(UTC).isoformat(timespec="seconds")}


def _engine_table(result: dict) -> list[str]:
    lines = [f"Engine: {result['model']}, start + every task completed, each its own transaction "
             f"(medians of {result['rounds']} rounds of {result['instances_per_round']} instances each, run in turn "
             "instance by instance; ratio to raw within each round)",
             f"  {'raw SpiffWorkflow in memory':<44}{result['raw_per_s']:>10.1f} inst/s   1.00",
             f"  {'raw SpiffWorkflow + JSON per step':<44}{result['raw_serialized_per_s']:>10.1f} inst/s   "
             f"{result['raw_serialized_ratio']:.2f}"]
    for backend in ("sqlite", "postgresql"):
        if f"{backend}_per_s" in result:
            lines.append(f"  {'clientflow persisted, ' + backend:<44}{result[backend + '_per_s']:>10.1f} inst/s   "
                         f"{result[backend + '_ratio']:.2f}   {result[backend + '_bytes_per_instance']} bytes/instance")
    if "postgresql_floor_per_s" in result:
        lines.append(f"  {'bare psycopg, the same rows and round trips':<44}{result['postgresql_floor_per_s']:>10.1f} "
                     "inst/s")
    for backend in ("sqlite", "postgresql"):
        if "clients" in result.get(backend, {}):
            entry = result[backend]
            lines.append(f"  {backend}: {entry['ratio_to_floor']:.2f} of its bare-driver floor (own database); "
                         "client threads " + ", ".join(f"{n}: {r:.1f}/s" for n, r in entry["clients"].items())
                         + f" (4 vs 1: {entry['clients_4_to_1']:.2f}x); client processes "
                         + ", ".join(f"{n}: {r:.1f}/s" for n, r in entry["client_processes"].items())
                         + f" (4 vs 1: {entry['processes_4_to_1']:.2f}x)")
            cpu = entry["cpu"]
            server = f" + server {cpu['server_cpu_ms']:.2f} ms" if "server_cpu_ms" in cpu else ""
            lines.append(f"  {backend}: one client, per instance: wall {cpu['wall_ms']:.2f} ms, CPU: client "
                         f"{cpu['client_cpu_ms']:.2f} ms{server}; so at most {cpu['clients_cap']:.2f}x one client "
                         "from any number of clients on this machine")
    if "round_trips_per_instance" in result.get("postgresql", {}):
        trips = result["postgresql"]
        lines.append(f"  round trips to PostgreSQL per instance (counted in libpq's trace): "
                     f"{trips['round_trips_per_instance']} (start {trips['round_trips']['start']}, task list "
                     f"{trips['round_trips']['task_list']}, completion {trips['round_trips']['completion']})")
    for backend, growth in result.get("growth", {}).get("by_database", {}).items():
        lines.append(f"  growth, {backend}: a step at 10 finished tasks {growth['step_ms_at_10']:.2f} ms, at 1,000 "
                     f"{growth['step_ms_at_1000']:.2f} ms ({growth['step_ratio']:.2f}x); state "
                     f"{growth['state_bytes_at_10']:,} -> {growth['state_bytes_at_1000']:,} bytes; restore "
                     f"{growth['restore_ms_at_10']:.1f} -> {growth['restore_ms_at_1000']:.1f} ms")
    if "sqlite_floor_per_s" in result:
        lines += [f"  {'bare sqlite3, the same rows, own file':<44}{result['sqlite_floor_per_s']:>10.1f} inst/s",
                  f"  best ratio any engine code could reach on SQLite here: {result['sqlite_ceiling_ratio']:.2f} "
                  f"(SpiffWorkflow + the writes alone), {result['sqlite_ceiling_with_json_ratio']:.2f} "
                  "(+ the state's JSON)"]
    return lines


@click.command()
@click.option("--quick", is_flag=True, help="small runs (under a minute); for CI smoke tests")
@click.option("--postgres", "postgres_url", envvar="CLIENTFLOW_BENCH_POSTGRES",
              help="PostgreSQL URL to also measure (the bench creates and drops a database of its own)")
@click.option("--output", type=click.Path(path_type=Path), default=Path("bench-results.json"), show_default=True)
@click.option("--only", type=click.Choice(["engine", "timers", "web", "scaleout", "sla"]), multiple=True,
              help="run only these parts")
@click.option("--instances", type=click.IntRange(min=10), help="open cases for the web and scale-out parts "
              "(default 100,000; 2,000 with --quick)")
@click.option("--redis", "redis_url", envvar="CLIENTFLOW_BENCH_REDIS",
              help="Redis for the web and scale-out parts (default: an embedded one in a scratch folder)")
def bench(quick, postgres_url, output, only, instances, redis_url):
    """Measure clientflow against raw SpiffWorkflow on the same model, in the same run."""
    from webapp.config import normalise_database_url

    parts = set(only) or {"engine", "timers", "web", "scaleout", "sla"}
    results: dict = {"machine": _machine(), "mode": "quick" if quick else "full"}
    url = normalise_database_url(postgres_url) if postgres_url else None
    if "engine" in parts:
        results["engine"] = bench_engine(quick, url, progress=lambda m: click.echo(f"... {m}", err=True))
        click.echo("\n".join(_engine_table(results["engine"])))
        results["engine"]["sandbox"] = _bench_sandbox(quick)
    if "timers" in parts:
        results["timers"] = _bench_timers(quick)
    if parts & {"web", "scaleout"}:
        from webapp.cli.bench.web import run_parts

        results.update(run_parts(parts, quick, url, redis_url, instances, click.echo,
                                 progress=lambda m: click.echo(f"... {m}", err=True)))
    if "sla" in parts:
        from webapp.cli.bench.sla import bench_sla, sla_table

        results["sla"] = bench_sla(quick, None if quick else url, redis_url, instances,
                                   progress=lambda m: click.echo(f"... {m}", err=True))
        click.echo("\n".join(sla_table(results["sla"])))
    output.write_text(json.dumps(results, indent=2))
    click.echo(f"results written to {output}")


def _bench_sandbox(quick: bool) -> dict:
    """What isolating scripts costs: a small script in-process vs in a sandbox process, and conditions on the
    in-process fast path vs forced through the sandbox (engine/core/sandbox.py)."""
    from engine.core.scripts import bench_scripts

    result = bench_scripts(300 if quick else 3000)
    click.echo("Sandbox: scripts {in_process_scripts_per_s:,.0f}/s in-process, {isolated_scripts_per_s:,.0f}/s "
               "isolated ({:.0%}); conditions {fast_path_conditions_per_s:,.0f}/s on the fast path, "
               "{isolated_conditions_per_s:,.0f}/s isolated".format(
                   result["isolated_scripts_per_s"] / result["in_process_scripts_per_s"], **result))
    return result


def _bench_timers(quick: bool) -> dict:
    try:
        from webapp.cli.bench.timers import bench_timers
    except ImportError:
        click.echo("timers: not measured (webapp.bench_timers is not available)", err=True)
        return {"skipped": "timer benchmark not available"}
    result = bench_timers(quick=quick)
    click.echo("Timers: " + ", ".join(f"{k}={v}" for k, v in result.items() if not isinstance(v, dict | list)))
    return result
