"""The Flask app: staff UI, studio, portal and JSON API over the engine facade."""

from __future__ import annotations

import os
from pathlib import Path

from engine import Engine
from flask import Flask

from webapp import config
from webapp.connections import register_scheduling
from webapp.extensions import csrf, db, limiter, login_manager, migrate

MIGRATIONS_DIR = str(Path(__file__).resolve().parent / "migrations")


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    instance = Path((test_config or {}).get("INSTANCE_PATH") or os.environ.get("CLIENTFLOW_INSTANCE_PATH")
                    or app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.instance_path = str(instance)
    app.config.from_mapping(config.from_environment(instance))
    # An operator's overrides in the instance folder (Python assignments, e.g. PORTAL_INTAKES = {...}).
    app.config.from_pyfile(str(instance / "config.py"), silent=True)
    if test_config:
        app.config.from_mapping(test_config)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_scheduling(app)
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    with app.app_context():
        forms_dir = Path(app.config["FORMS_DIR"])
        app.extensions["clientflow"] = Engine(
            db.engine, form_dirs=[forms_dir] if forms_dir.is_dir() else [],
            script_time_limit=app.config["SCRIPT_TIME_LIMIT"], clock=app.config.get("CLOCK"),
            **config.engine_limits(app.config),
            lane_supervisors=app.config.get("LANE_SUPERVISORS"), check_state=app.config["CHECK_STATE"],
            upload_policy=config.upload_policy(app.config))
        app.extensions["clientflow"].camunda.handlers.load_setting(app.config.get("CAMUNDA_HANDLERS") or "")


def register_blueprints(app: Flask) -> None:
    from webapp.web import api, auth, portal, studio
    from webapp.web.views import admin, inbox, instances, main, reports, tasks, wording
    from webapp.web.views import auth as auth_views

    auth.init_app(app)
    for blueprint in (main.bp, auth_views.bp, inbox.bp, tasks.bp, instances.bp, admin.bp, portal.bp, reports.bp,
                      wording.bp):
        app.register_blueprint(blueprint)
    from webapp.web.views import casework, operations
    from webapp.web.views import privacy as privacy_views

    app.register_blueprint(operations.bp)
    app.register_blueprint(casework.bp)

    app.register_blueprint(privacy_views.bp)
    from webapp.web.views import clients as client_views  # client records (engine/clients)
    app.register_blueprint(client_views.bp)
    from webapp.web.views import documents as document_views  # uploaded case documents (engine/clients)
    app.register_blueprint(document_views.bp)
    from webapp.web.views import sla as sla_views  # a case's SLA actions (engine/sla)
    app.register_blueprint(sla_views.bp)
    csrf.exempt(api.bp)  # token-authenticated, no cookies: nothing for a forged cross-site request to ride on
    app.register_blueprint(api.bp)
    from webapp.web import engine_rest  # Camunda 7's REST shape for workers (docs/camunda-migration.md)

    csrf.exempt(engine_rest.bp)  # token-authenticated like the JSON API
    app.register_blueprint(engine_rest.bp)
    app.register_blueprint(studio.bp)


def register_errorhandlers(app: Flask) -> None:
    from webapp.web.views import errors

    app.register_blueprint(errors.bp)
