"""Between versions: what changed (on the diagram), and moving running instances to a newer version."""

from __future__ import annotations

from engine.errors import ClientflowError, MigrationRefused, NotFound
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.extensions import get_engine
from webapp.web.studio.blueprint import bp
from webapp.web.studio.bundles import versions_of
from webapp.web.studio.inputs import MigrateForm


@bp.get("/processes/<key>/diff")
def diff(key: str):
    versions = [v.version for v in versions_of(key)]
    new = request.args.get("new", type=int) or versions[0]
    old = request.args.get("old", type=int) or next((v for v in versions if v < new), None)
    if old is None or old not in versions or new not in versions or old == new:
        abort(400, description="Choose two different deployed versions to compare.")
    engine = get_engine()
    old_files, new_files = engine.definition_files(key, old), engine.definition_files(key, new)
    bpmn = sorted({n for n in (*old_files, *new_files) if n.endswith(".bpmn")},
                  key=lambda n: (n != f"{key}.bpmn", n))
    return render_template("studio/diff.html", key=key, diff=engine.version_diff(key, old, new), versions=versions,
                           diagrams={n: {"old": old_files.get(n), "new": new_files.get(n)} for n in bpmn})


@bp.get("/instances/<int(max=2147483647):instance_id>/migrate")
def migration(instance_id: int):
    engine = get_engine()
    instance = engine.instance(instance_id)
    to_version = request.args.get("to", type=int) or versions_of(instance.key)[0].version
    plan = engine.migration_plan(instance_id, to_version)
    return render_template("studio/migrate.html", instance=instance, plan=plan,
                           form=MigrateForm(to_version=to_version, instances=[instance_id]))


@bp.post("/processes/<key>/migrate")
def migrate(key: str):
    form = MigrateForm()
    if not form.validate() or not form.instances.data:
        abort(400, description="Choose the instances to move and the version to move them to.")
    engine, results = get_engine(), []
    for instance_id in form.instances.data:
        try:
            if engine.instance(instance_id).key != key:
                raise NotFound(f"instance {instance_id} is not an instance of {key}")
            moved = engine.migrate_instance(instance_id, form.to_version.data, by=current_user.username)
            results.append((instance_id, True, f"now on version {moved.version}", []))
        except MigrationRefused as err:
            results.append((instance_id, False, "refused", err.reasons))
        except ClientflowError as err:
            results.append((instance_id, False, "refused", [str(err)]))
    moved = sum(ok for _i, ok, _m, _r in results)
    if len(results) == 1 and moved:
        flash(f"Instance {results[0][0]} moved to version {form.to_version.data}.", "success")
        return redirect(url_for("instances.show", instance_id=results[0][0]), 303)
    status = 200 if moved else 409
    return render_template("studio/migrated.html", key=key, results=results, to_version=form.to_version.data,
                           moved=moved), status
