"""Redis flushed while 50 timers wait: the sweeper finds them in the database; all fire, each once, none early."""

from tests.worker.fixtures import PATIENCE
from tests.worker.harness import wait_until

TIMERS = 50


def test_fifty_pending_timers_survive_a_flushed_redis(models, start_worker, redis_db):
    engine = models
    start_worker()
    instances = [engine.start("reminder", {"delay": "PT3S", "reminders": 0, "hold": 0}).id for _ in range(TIMERS)]
    assert redis_db.client.keys("clientflow:lease:timer:*")
    redis_db.flush()  # every scheduled job and lease is gone; the worker and its scheduler live on
    wait_until(lambda: all(engine.timers(i)[0].fired_at for i in instances), PATIENCE, interval=0.25,
               what="all 50 timers to fire")
    for instance_id in instances:
        [timer] = engine.timers(instance_id)
        assert timer.fired_at >= timer.due_at
        assert [e.kind for e in engine.events(instance_id)].count("timer_fired") == 1
