"""`clientflow privacy ...`: the retention run (for cron) and subject access exports from the shell.

`webapp/cli/commands.py` adds this group to `clientflow`.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from engine import privacy as engine_privacy
from engine.errors import InvalidInput
from flask import current_app

from webapp.cli.output import emit, engine_command, table
from webapp.connections import get_queue
from webapp.web.privacy_export import sar_bundle
from webapp.worker.queues import MAIL_QUEUE
from webapp.worker.retention import retention_days, schedule_retention


@click.group()
def privacy():
    """Data protection: the retention run and subject access exports."""


@privacy.command()
@click.option("--dry-run", is_flag=True, help="only list what is due; change nothing")
@click.option("--days", type=int, help="retention period in days (default: CLIENTFLOW_RETENTION_DAYS or 1825)")
@click.option("--schedule-every", "every", type=float, metavar="HOURS",
              help="instead of running now, put a repeating run on the workers' queue")
@click.option("--json", "as_json", is_flag=True)
@engine_command
def retention(engine, dry_run, days, every, as_json):
    """Anonymise ended instances older than the retention period (only what is due)."""
    days = engine_privacy.check_days(days) if days is not None else retention_days(current_app.config)
    if every is not None:
        if every <= 0:
            raise InvalidInput("--schedule-every takes a positive number of hours")
        job = schedule_retention(get_queue(MAIL_QUEUE), engine.clock.now(), every_hours=every)
        click.echo(f"retention run scheduled every {every:g} h (job {job.id})")
        return
    run = engine_privacy.run_retention(engine, days, dry_run=dry_run)
    rows = [[d.reference or d.id, d.process_key, d.status, d.ended_at.strftime("%Y-%m-%d")] for d in run.due]
    verb = "would be anonymised" if dry_run else f"due, {len(run.anonymised)} anonymised, {len(run.skipped)} skipped"
    emit(run.as_dict(), as_json, f"{len(run.due)} instance(s) ended before {run.cutoff:%Y-%m-%d} {verb}\n"
                                 + table(rows, ["CASE", "PROCESS", "STATUS", "ENDED"]))


@privacy.command()
@click.argument("term")
@click.option("--reason", default="subject access request (CLI)", show_default=True,
              help="why, for the access log (the request's reference; no personal data)")
@click.option("--as", "as_user", default="system", show_default=True, help="who is exporting, for the access log")
@click.option("--zip", "zip_path", type=click.Path(dir_okay=False, path_type=Path),
              help="write the JSON + HTML bundle to this zip file")
@click.option("--json", "as_json", is_flag=True, help="print the whole record as JSON")
@engine_command
def sar(engine, term, reason, as_user, zip_path, as_json):
    """Everything held about the person TERM (an e-mail address, ID number or case reference)."""
    user = engine.user(as_user)
    record = engine_privacy.find_subject(engine, term)
    exporting = bool(zip_path or as_json)
    engine_privacy.log_access(engine, user, "cli", "export" if exporting else "search",
                              subjects=record.instance_ids, why=reason)
    if zip_path:
        zip_path.write_bytes(sar_bundle(record))
        click.echo(f"wrote {zip_path} ({len(record.instances)} case(s), {len(record.notifications)} message(s))")
        return
    if as_json:
        click.echo(json.dumps(record.as_dict(), indent=2, default=str, ensure_ascii=False))
        return
    rows = [[s.detail.instance.reference or s.detail.instance.id, s.detail.instance.key, s.detail.instance.status,
             ", ".join(s.matched), "yes" if s.anonymised else ""] for s in record.instances]
    click.echo(table(rows, ["CASE", "PROCESS", "STATUS", "FOUND BY", "ANONYMISED"]))
    click.echo(f"{len(record.notifications)} message(s), {len(record.accesses)} recorded access(es)")
