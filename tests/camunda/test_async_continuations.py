"""camunda:asyncBefore / asyncAfter through the engine: the step is committed and waits for its job, the job
continues it, failed attempts are rolled back and retried as the retry cycle says, the last one is an incident that
operations retries. (tests/worker/test_async_continuations.py runs the same on a real RQ worker.)"""

from datetime import timedelta

import pytest

from engine.camunda.continuations import ASYNC_TOPIC, retry_cycle
from engine.errors import InvalidInput, InvalidModel, TaskNotReady
from tests.camunda.handlers import charge_card


@pytest.fixture
def app_config(app_config, clock):
    return {**app_config, "CLOCK": clock}


@pytest.fixture
def payment(engine, camunda_models, tmp_path, make_user):
    make_user("olga", "Admin")
    engine.deploy(camunda_models / "async_payment.bpmn", key="payment")
    engine.camunda.handlers.register("org.example.ChargeCard", charge_card)
    attempts = tmp_path / "attempts.txt"

    def start(fail_times=0):
        return engine.start("payment", {"amount": 40, "fail_times": fail_times, "attempts_file": str(attempts)},
                            by=None)
    start.attempts = attempts
    return start


def continue_all(engine):
    return [engine.camunda.continue_async(task_id) for task_id in engine.camunda.due_continuations()]


def test_the_deploy_report_lists_async_as_run(engine, camunda_models):
    result = engine.deploy(camunda_models / "async_payment.bpmn", key="payment")
    found = {(c["extension"], c["element_id"]): c["handling"] for c in result.compat}
    assert found[("camunda:asyncBefore", "charge")] == "run"
    assert found[("camunda:asyncAfter", "receipt")] == "run"
    assert found[("camunda:failedJobRetryTimeCycle", "charge")] == "run"
    assert found[("camunda:asyncBefore", "review")] == "mapped"  # a user task waits in its own step anyway


def test_async_before_commits_the_start_then_the_job_runs_the_step(engine, payment):
    instance = payment()
    assert engine.instance(instance.id).status == "running"
    assert not payment.attempts.exists()  # the handler has not run in the starting transaction
    [waiting] = engine.camunda.external_tasks(ASYNC_TOPIC)
    assert waiting["element_id"] == "charge"
    assert continue_all(engine) == ["continued"]
    detail = engine.instance_detail(instance.id)
    assert detail.data["charged"] == 40 and detail.data["receipt"] == "paid 40"
    assert detail.tasks == []  # asyncAfter on the receipt: the review waits for the next job
    [after] = engine.camunda.external_tasks(ASYNC_TOPIC)
    assert after["element_id"] == "receipt"
    assert continue_all(engine) == ["continued"]
    [review] = engine.instance_detail(instance.id).tasks
    assert review.element_id == "review"
    assert continue_all(engine) == []
    phases = [(e.element_id, e.detail["phase"]) for e in engine.instance_detail(instance.id).events
              if e.kind == "async_continued"]
    assert phases == [("charge", "before"), ("receipt", "after")]


def test_failed_attempts_roll_back_wait_and_end_in_an_incident_that_operations_retries(engine, payment, clock):
    instance = payment(fail_times=3)
    assert continue_all(engine) == ["retrying"]
    [row] = engine.camunda.external_tasks(ASYNC_TOPIC)
    assert row["retries"] == 2 and "attempt 1" in row["error_message"]
    assert engine.instance(instance.id).status == "running"  # rolled back: no incident yet
    assert engine.camunda.due_continuations() == []  # R3/PT1S: not before a second
    clock.advance(timedelta(seconds=1))
    assert continue_all(engine) == ["retrying"]
    clock.advance(timedelta(seconds=1))
    assert continue_all(engine) == ["incident"]
    failed = engine.instance(instance.id)
    assert failed.status == "error" and "charge" in failed.error and "attempt 3" in failed.error
    assert len(payment.attempts.read_text().splitlines()) == 3
    assert engine.camunda.external_tasks(ASYNC_TOPIC) == []
    retried = engine.retry(instance.id, {}, by="olga")  # the fourth call succeeds
    assert retried.status == "running"
    assert engine.instance_detail(instance.id).data["charged"] == 40
    assert continue_all(engine) == ["continued"]
    assert [t.element_id for t in engine.instance_detail(instance.id).tasks] == ["review"]


def test_a_second_job_for_the_same_continuation_does_nothing(engine, payment):
    payment()
    [task_id] = engine.camunda.due_continuations()
    assert engine.camunda.continue_async(task_id) == "continued"
    assert engine.camunda.continue_async(task_id) == "done"
    assert len(payment.attempts.read_text().splitlines()) == 1


def test_workers_cannot_take_the_engines_jobs(engine, payment):
    payment()
    with pytest.raises(InvalidInput, match="reserved"):
        engine.camunda.fetch_and_lock("w", 1, [{"topicName": ASYNC_TOPIC, "lockDuration": 1000}])
    [task_id] = engine.camunda.due_continuations()
    with pytest.raises(TaskNotReady):
        engine.camunda.lock(task_id, "w", 1000)


def test_retry_cycles():
    assert retry_cycle(None) == (timedelta(0), timedelta(0))  # Camunda's default: 3 attempts
    assert retry_cycle("R5/PT1M") == (timedelta(minutes=1),) * 4
    assert retry_cycle("PT1S, PT10M") == (timedelta(seconds=1), timedelta(minutes=10))
    with pytest.raises(InvalidModel, match="failedJobRetryTimeCycle"):
        retry_cycle("${retries}")


def test_an_unreadable_retry_cycle_refuses_the_deploy(engine, camunda_models):
    text = (camunda_models / "async_payment.bpmn").read_text().replace("R3/PT1S", "three times")
    with pytest.raises(InvalidModel, match="three times"):
        engine.deploy_files({"async_payment.bpmn": text}, "payment")
