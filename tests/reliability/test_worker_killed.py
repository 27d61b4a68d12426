"""A worker killed with SIGKILL in the middle of a timer job: the next worker fires the timer, exactly once."""

import time

from rq.registry import StartedJobRegistry

from tests.worker.harness import wait_until
from webapp.queues import TIMER_QUEUE

HOLD = 3  # seconds the reminder's script spins, so the kill lands inside the job


def test_timer_job_killed_mid_way_fires_once_on_the_next_worker(models, start_worker, redis_db):
    engine = models
    first = start_worker("doomed")
    instance = engine.start("reminder", {"delay": "PT1S", "reminders": 0, "hold": HOLD})
    started = StartedJobRegistry(TIMER_QUEUE, connection=redis_db.client)
    wait_until(lambda: started.get_job_ids(), 8, interval=0.05, what="the timer job to start")
    time.sleep(0.5)
    first.kill()  # SIGKILL to the worker and its scheduler, mid-transaction
    [timer] = engine.timers(instance.id)
    assert timer.fired_at is None, "the killed job's transaction must not have committed"
    assert "timer_fired" not in [e.kind for e in engine.events(instance.id)]

    start_worker("survivor")
    wait_until(lambda: engine.timers(instance.id)[0].fired_at, 20, what="the survivor to fire the timer")
    time.sleep(1.5)  # a duplicate job, if any, would have run by now
    [timer] = engine.timers(instance.id)
    assert timer.fired_at >= timer.due_at
    kinds = [e.kind for e in engine.events(instance.id)]
    assert kinds.count("timer_fired") == 1
    assert [e.element_id for e in engine.events(instance.id) if e.kind == "script_ran"] == ["count"]
