"""A worker killed with SIGKILL in the middle of firing a timer: the next worker fires it, exactly once.

Two ways a timer gets fired: inside the RQ job (the timer was already due when the job ran), or by the worker's
dispatcher at the due time (the job came early and the worker held the timer). Both are killed mid-way here.
"""

import time
from datetime import timedelta

import pytest
from rq.registry import StartedJobRegistry

from tests.worker.fixtures import PATIENCE
from tests.worker.harness import wait_until
from webapp.worker.queues import TIMER_QUEUE

HOLD = 3  # seconds the reminder's script spins, so the kill lands inside the firing transaction


def start_reminder(engine):
    return engine.start("reminder", {"delay": "PT1S", "reminders": 0, "hold": HOLD})


@pytest.mark.parametrize("where", ["in the RQ job", "held by the worker"])
def test_killed_while_firing_fires_once_on_the_next_worker(where, models, start_worker, redis_db):
    engine = models
    if where == "in the RQ job":
        instance = start_reminder(engine)
        time.sleep(1.2)  # due before any worker runs: the job fires it itself
        doomed = start_worker("doomed")
        started = StartedJobRegistry(TIMER_QUEUE, connection=redis_db.client)
        wait_until(lambda: started.get_job_ids(), PATIENCE, interval=0.05, what="the timer job to start")
        time.sleep(0.5)
    else:
        doomed = start_worker("doomed")
        instance = start_reminder(engine)
        due = engine.timers(instance.id)[0].due_at
        wait_until(lambda: engine.clock.now() > due + timedelta(seconds=0.5), 5, interval=0.05,
                   what="the dispatcher to be firing")
    doomed.kill()  # SIGKILL to the worker and its scheduler, mid-transaction
    [timer] = engine.timers(instance.id)
    assert timer.fired_at is None, "the killed transaction must not have committed"
    assert "timer_fired" not in [e.kind for e in engine.events(instance.id)]

    start_worker("survivor")
    wait_until(lambda: engine.timers(instance.id)[0].fired_at, PATIENCE, what="the survivor to fire the timer")
    time.sleep(1.5)  # a duplicate, if there were one, would have fired by now
    [timer] = engine.timers(instance.id)
    assert timer.fired_at >= timer.due_at
    events = engine.events(instance.id)
    assert [e.kind for e in events].count("timer_fired") == 1
    assert [e.element_id for e in events if e.kind == "script_ran"] == ["count"]
