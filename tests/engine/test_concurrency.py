"""Optimistic locking: of two concurrent changes to one instance exactly one wins; nothing is lost."""

import multiprocessing
import threading

import pytest

from engine.errors import ConcurrentUpdate


@pytest.fixture
def parallel_instance(engine, order_bundle, make_user):
    """An instance waiting at its two parallel tasks (notify, stock_check)."""
    make_user("alice", "Agent")
    engine.deploy(order_bundle)
    instance = engine.start("order", by="alice")
    engine.complete(engine.tasks(instance_id=instance.id)[0].id, {"amount": 10}, by="alice")
    return engine.instance(instance.id)


def race(calls):
    """Run callables at the same moment in threads; return (results, errors)."""
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def run(call):
        barrier.wait()
        try:
            results.append(call())
        except Exception as err:  # noqa: BLE001 - the test inspects what each thread got
            errors.append(err)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results, errors


def test_two_threads_same_version_one_wins(engine, parallel_instance):
    tasks = {t.element_id: t for t in engine.tasks(instance_id=parallel_instance.id)}
    version = parallel_instance.lock_version
    results, errors = race([
        lambda: engine.complete(tasks["notify"].id, {"notified": True}, by="alice", expected_version=version),
        lambda: engine.complete(tasks["stock_check"].id, {"in_stock": True}, by="alice", expected_version=version),
    ])
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], ConcurrentUpdate)
    engine.live.clear()
    detail = engine.instance_detail(parallel_instance.id)
    assert detail.instance.lock_version == version + 1
    won = "notified" if "notified" in detail.data else "in_stock"
    assert detail.data[won] is True
    assert len(detail.tasks) == 1  # the loser's task is still open: nothing half-saved


def test_concurrent_changes_without_version_lose_nothing(engine, parallel_instance):
    tasks = {t.element_id: t for t in engine.tasks(instance_id=parallel_instance.id)}

    def complete_with_retry(task_id, data):
        for _ in range(20):
            try:
                return engine.complete(task_id, data, by="alice")
            except ConcurrentUpdate:
                continue
        raise AssertionError("never got through")

    results, errors = race([
        lambda: complete_with_retry(tasks["notify"].id, {"notified": True}),
        lambda: complete_with_retry(tasks["stock_check"].id, {"in_stock": True}),
    ])
    assert errors == []
    engine.live.clear()
    detail = engine.instance_detail(parallel_instance.id)
    assert detail.instance.status == "completed"
    assert detail.data["notified"] is True and detail.data["in_stock"] is True


def _complete_in_process(database_url, instance_path, task_id, version, barrier, queue):
    from webapp import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": instance_path,
                      "SECRET_KEY": "x", "TESTING": True})
    engine = app.extensions["clientflow"]
    barrier.wait()
    try:
        engine.complete(task_id, {"by_process": task_id}, by="alice", expected_version=version)
        queue.put("won")
    except ConcurrentUpdate:
        queue.put("conflict")
    except Exception as err:  # noqa: BLE001 - reported to the parent test
        queue.put(f"{type(err).__name__}: {err}")


def test_two_processes_same_version_one_wins(engine, parallel_instance, database_url, instance_path):
    tasks = engine.tasks(instance_id=parallel_instance.id)
    context = multiprocessing.get_context("spawn")
    barrier, queue = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_complete_in_process,
                               args=(database_url, str(instance_path), t.id, parallel_instance.lock_version,
                                     barrier, queue)) for t in tasks]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    outcomes = sorted(queue.get(timeout=5) for _ in workers)
    assert outcomes == ["conflict", "won"]
    engine.live.clear()
    assert engine.instance(parallel_instance.id).lock_version == parallel_instance.lock_version + 1
