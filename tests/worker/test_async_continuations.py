"""camunda:asyncBefore / asyncAfter on a real RQ worker: the starting request commits and returns, the worker's jobs
run the steps, a failing step is retried as its camunda:failedJobRetryTimeCycle says (R3/PT1S), and the third
failure is an incident in the operations console, retried from there."""

from pathlib import Path

import pytest

from tests.camunda.handlers import charge_card
from tests.support import client_signed_in
from tests.worker.fixtures import PATIENCE
from tests.worker.harness import wait_until

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "tests" / "camunda" / "models" / "async_payment.bpmn"
HANDLER = "org.example.ChargeCard"


@pytest.fixture
def handler_env(worker_env):
    """The worker loads the handler through the setting, as a deployment would."""
    return {**worker_env, "CLIENTFLOW_CAMUNDA_HANDLERS": f"{HANDLER}=tests.camunda.handlers:charge_card",
            "PYTHONPATH": str(ROOT)}


def attempts(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_async_steps_run_as_worker_jobs_with_retries_then_an_incident(app, engine, start_worker, handler_env,
                                                                      make_user, tmp_path):
    make_user("sam", "Supervisor")
    engine.deploy(MODEL, key="payment")
    engine.camunda.handlers.register(HANDLER, charge_card)  # this (web) process runs the console's retry
    flaky, broken = tmp_path / "flaky.txt", tmp_path / "broken.txt"
    once = engine.start("payment", {"amount": 40, "fail_times": 1, "attempts_file": str(flaky)}, by=None)
    thrice = engine.start("payment", {"amount": 70, "fail_times": 3, "attempts_file": str(broken)}, by=None)
    assert (engine.instance(once.id).status, attempts(flaky)) == ("running", 0)  # committed before the step

    start_worker(env=handler_env)
    wait_until(lambda: engine.tasks(instance_id=once.id), PATIENCE, what="the review task after one retry")
    detail = engine.instance_detail(once.id)
    assert (detail.data["charged"], detail.data["attempts"], detail.data["receipt"]) == (40, 2, "paid 40")
    assert [(e.element_id, e.detail["phase"], e.detail["attempt"]) for e in detail.events
            if e.kind == "async_continued"] == [("charge", "before", 2), ("receipt", "after", 1)]

    wait_until(lambda: engine.instance(thrice.id).status == "error", PATIENCE, what="the third failure's incident")
    assert attempts(broken) == 3
    failed = engine.instance(thrice.id)
    assert "charge" in failed.error and "attempt 3" in failed.error
    sam = client_signed_in(app, "sam")
    console = sam.get("/operations/").get_data(as_text=True)
    assert thrice.reference in console and "Charge card" in console and "attempt 3" in console
    retried = sam.post("/operations/incidents", data={"action": "retry", "instance": [str(thrice.id)]},
                       follow_redirects=True).get_data(as_text=True)
    assert "1 incident retried" in retried
    wait_until(lambda: engine.tasks(instance_id=thrice.id), PATIENCE, what="the review task after the console's retry")
    assert engine.instance_detail(thrice.id).data["charged"] == 70 and attempts(broken) == 4
