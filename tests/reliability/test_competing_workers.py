"""Two workers competing for the same due timers (every timer has two jobs): each timer fires once."""

from rq import Queue
from rq.job import Job
from rq.registry import FinishedJobRegistry

from tests.worker.fixtures import PATIENCE
from tests.worker.harness import wait_until
from webapp.worker.queues import TIMER_QUEUE
from webapp.worker.scheduling import TIMER_JOB

TIMERS = 20


def test_two_workers_two_jobs_per_timer_each_timer_fires_once(models, start_worker, redis_db):
    engine = models
    # Both workers are up before the timers are set: on a loaded machine a worker can take longer to start than
    # the timers' delay, and the first one up would then run every job alone.
    start_worker("left")
    start_worker("right")
    instances = [engine.start("reminder", {"delay": "PT2S", "reminders": 0, "hold": 0}).id for _ in range(TIMERS)]
    timers = [engine.timers(i)[0] for i in instances]
    queue = Queue(TIMER_QUEUE, connection=redis_db.client)
    # The save already scheduled one job per timer; a second one each, as a sweeper racing a scheduler would.
    extra = [queue.enqueue_at(t.due_at, TIMER_JOB, t.id) for t in timers]
    wait_until(lambda: all(engine.timers(i)[0].fired_at for i in instances), PATIENCE, what="all timers to fire")
    wait_until(lambda: all(Job.fetch(j.id, connection=redis_db.client).is_finished for j in extra), PATIENCE,
               what="the duplicate jobs to finish")
    for instance_id in instances:
        [timer] = engine.timers(instance_id)
        assert timer.fired_at >= timer.due_at
        assert [e.kind for e in engine.events(instance_id)].count("timer_fired") == 1
    outcomes = [Job.fetch(j.id, connection=redis_db.client).return_value() for j in extra]
    assert set(outcomes) <= {"fired", "done", "held", "rescheduled"}
    # Every timer job either worker ran (the save's own and the duplicates): which worker takes which is up to
    # RQ, but with twice as many jobs as timers both must have been in the race.
    finished = FinishedJobRegistry(TIMER_QUEUE, connection=redis_db.client).get_job_ids()
    workers = {Job.fetch(job_id, connection=redis_db.client).worker_name for job_id in finished}
    assert workers == {"left", "right"}, "both workers should have taken part"
