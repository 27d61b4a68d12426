"""The sweeper: work saved without a job (Redis down, flushed) is scheduled from the database, once per lease."""

from click.testing import CliRunner
from rq import Queue
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from engine.core.db.models import Notification
from webapp.cli.commands import main
from webapp.worker.entry import job_context
from webapp.worker.queues import MAIL_QUEUE, TIMER_QUEUE
from webapp.worker.scheduling import Settings
from webapp.worker.sweeper import sweep


def test_sweep_schedules_unscheduled_work_once(app_config, request, redis_db):
    app_config["SCHEDULE_JOBS"] = False  # as if Redis had been down when these were saved
    app = request.getfixturevalue("app")
    engine = request.getfixturevalue("models")
    soon = engine.start("reminder", {"delay": "PT3S", "reminders": 0, "hold": 0})
    engine.start("reminder", {"delay": "PT1H", "reminders": 0, "hold": 0})  # beyond this sweep's horizon
    engine.start("notice", {"template": "status_update", "email": "ana@example.com", "name": "Ana"})
    settings = Settings.from_config(app.config)

    first = sweep(engine, redis_db.client, settings)
    assert (first.timers, first.notifications) == (1, 1)
    assert sweep(engine, redis_db.client, settings) == first.__class__(0, 0)  # leases: no second job

    # Straight onto the queue, not through RQ's scheduler: the worker holds it until it is due.
    timers = Queue(TIMER_QUEUE, connection=redis_db.client)
    assert ScheduledJobRegistry(queue=timers).get_job_ids() == []
    [job] = timers.get_jobs()
    assert job.args == (engine.timers(soon.id)[0].id,)
    assert len(Queue(MAIL_QUEUE, connection=redis_db.client)) == 1


def test_burst_worker_command_sends_what_it_finds(app_config, request, redis_db):
    app_config["SCHEDULE_JOBS"] = False
    app = request.getfixturevalue("app")
    engine = request.getfixturevalue("models")
    engine.start("notice", {"template": "welcome_package", "email": "ana@example.com", "name": "Ana"})
    result = CliRunner().invoke(main, ["worker", "--burst", "--queues", "timers,mail"], obj=app,
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with engine.read_session() as session:
        assert session.scalars(select(Notification.status)).all() == ["logged"]  # no SMTP_URL here


def test_sweeper_retries_a_failed_hand_off(app, engine, redis_db, make_user):
    """A suggestion whose complaint hand-off failed (no complaint process yet) is started by the next sweep."""
    from tests.processes.flow import PROCESSES, Flow
    from tests.processes.test_feedback_and_suggestion import REVIEW, SUGGESTION
    from webapp.worker.sweeper import Sweeper

    make_user("supervisor", "Supervisor")
    engine.deploy(PROCESSES / "suggestion.bpmn")
    suggestion = Flow(engine, engine.start("suggestion", SUGGESTION).id)
    suggestion.complete("review_suggestion", {**REVIEW, "is_complaint": True, "complaint_category": "service"},
                        by="supervisor")
    assert [e.kind for e in engine.events(suggestion.id)].count("handoff_failed") == 1
    engine.deploy_each(PROCESSES)

    with job_context(app, redis_db.client, name="test") as context:
        sweeper = Sweeper(context)
        sweeper.sweep_once(take_turn=False)
        [complaint] = engine.list_instances(key="complaint_handling")
        assert suggestion.status == "completed"
        assert suggestion.data["complaint_reference"] == complaint.reference
        sweeper.sweep_once(take_turn=False)  # within the minute: no second try, no second complaint
    assert len(engine.list_instances(key="complaint_handling")) == 1
