"""Round trips to PostgreSQL per step, counted in libpq's protocol trace: a regression fails here."""

import os

import pytest

from engine.bench import five_task_model, round_trips_of_instance
from engine.core.db.round_trips import RoundTrips

pytestmark = pytest.mark.skipif(os.environ.get("CLIENTFLOW_TEST_DATABASE", "sqlite") == "sqlite",
                                reason="round trips are counted on PostgreSQL")

# What the pipelined path reaches (docs/performance.md): a completion reads its task, instance and user in one
# round trip and writes in one; a task list is one autocommit read; a start reads once, takes its reference
# number and writes (the client feature takes the binding from the cached model).
COMPLETION, TASK_LIST, START, INSTANCE = 2, 1, 3, 19


def data_for(element_id):
    return {"amount": int(element_id.rsplit("_", 1)[1])}


@pytest.fixture
def bench_model(engine, make_user):
    make_user("bench", "Admin")
    engine.deploy_files(five_task_model(), "bench_five", by="bench")
    return "bench_five"


def test_one_completion_costs_two_round_trips(engine, bench_model):
    engine.start(bench_model, {"customer_name": "Warm Ltd"}, by="bench")  # caches and connections warm
    instance = engine.start(bench_model, {"customer_name": "Bench Ltd"}, by="bench")
    engine.sql_engine.dispose()
    counter = RoundTrips(engine.sql_engine)
    try:
        task = engine.tasks(instance_id=instance.id)[0]  # opens the (traced) connection
        counter.reset()
        engine.complete(task.id, {"amount": 1}, by="bench")
        completion = counter.count()
        counter.reset()
        engine.tasks(instance_id=instance.id)
        task_list = counter.count()
    finally:
        counter.close()
    assert completion <= COMPLETION, f"one completion took {completion} round trips (at most {COMPLETION})"
    assert task_list <= TASK_LIST
    assert engine.instance(instance.id).lock_version == 2


def test_a_whole_instance_stays_within_twenty(engine, bench_model):
    counted = round_trips_of_instance(engine, bench_model, data_for, actor="bench")
    assert counted["round_trips"]["start"] <= START, counted
    assert counted["round_trips"]["task_list"] <= TASK_LIST, counted
    assert counted["round_trips"]["completion"] <= COMPLETION, counted
    assert counted["round_trips_per_instance"] <= INSTANCE, counted
