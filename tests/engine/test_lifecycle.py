"""Deploy, version, start and complete through persistence, for a multi-lane model with gateways,
a call activity, a script task and a DMN business rule task."""

import pytest

from engine.errors import InstanceNotRunning, NotAllowed, ProcessNotFound, TaskAlreadyCompleted


@pytest.fixture
def people(make_user):
    make_user("alice", "Agent")
    make_user("bob", "Reviewer", "Agent")
    make_user("carol", "Reviewer")


def fresh(engine):
    """Forget every in-memory workflow, so the next step restores from the database."""
    engine.live.clear()
    engine.models._items.clear()


def test_deploy_versions_only_on_change(engine, order_bundle):
    first = engine.deploy(order_bundle, by="po")
    again = engine.deploy(order_bundle, by="po")
    assert (first.version, first.created) == (1, True)
    assert (again.version, again.created) == (1, False)
    assert first.process_ids == ["order", "order_checks"]
    bpmn = order_bundle / "order.bpmn"
    bpmn.write_text(bpmn.read_text().replace('name="Capture order"', 'name="Capture the order"'))
    second = engine.deploy(order_bundle, by="po")
    assert (second.version, second.created) == (2, True)
    assert [(p.key, p.version) for p in engine.processes()] == [("order", 2)]
    assert len(engine.processes(all_versions=True)) == 2


def test_running_instances_keep_their_version(engine, order_bundle, people):
    engine.deploy(order_bundle)
    old = engine.start("order", {"customer_name": "ACME"}, by="alice")
    bpmn = order_bundle / "order.bpmn"
    bpmn.write_text(bpmn.read_text().replace('name="Capture order"', 'name="Capture the order"'))
    engine.deploy(order_bundle)
    new = engine.start("order", by="alice")
    fresh(engine)
    assert (old.version, new.version) == (1, 2)
    assert engine.tasks(instance_id=old.id)[0].name == "Capture order"
    assert engine.tasks(instance_id=new.id)[0].name == "Capture the order"


def test_high_risk_path_round_trips_persistence(engine, order_bundle, people):
    engine.deploy(order_bundle)
    started = engine.start("order", {"customer_name": "ACME"}, by="alice")
    assert started.status == "running"
    assert started.reference.startswith("ORD-")
    fresh(engine)
    [capture] = engine.tasks(instance_id=started.id)
    assert (capture.element_id, capture.lane) == ("capture", "Agent")
    engine.complete(capture.id, {"amount": 1500}, by="alice")
    fresh(engine)
    [review] = engine.tasks(instance_id=started.id)
    assert (review.element_id, review.lane) == ("review", "Reviewer")
    detail = engine.instance_detail(started.id)
    assert detail.data["score"] == 15 and detail.data["risk"] == "high"
    assert [t.element_id for t in detail.timers] == ["review_reminder"]
    engine.complete(review.id, {"approved": True}, by="carol")
    fresh(engine)
    parallel = engine.tasks(instance_id=started.id)
    assert sorted(t.element_id for t in parallel) == ["notify", "stock_check"]
    for task in parallel:
        fresh(engine)
        engine.complete(task.id, {}, by="bob")
    fresh(engine)
    detail = engine.instance_detail(started.id)
    assert detail.instance.status == "completed"
    assert detail.instance.ended_at is not None
    assert detail.tasks == []
    assert detail.timers[0].cancelled_at is not None
    kinds = [e.kind for e in detail.events]
    assert kinds[0] == "instance_started" and kinds[-1] == "instance_completed"
    assert {"script_ran", "rule_evaluated", "gateway_taken"} <= set(kinds)
    completed_by = {e.element_id: e.actor for e in detail.events if e.kind == "task_completed"}
    assert completed_by == {"capture": "alice", "review": "carol", "notify": "bob", "stock_check": "bob"}
    fields = next(e.detail["fields"] for e in detail.events if e.element_id == "capture")
    assert fields == ["amount"]


def test_low_risk_path_skips_review(engine, order_bundle, people):
    engine.deploy(order_bundle)
    started = engine.start("order", by="alice")
    [capture] = engine.tasks(instance_id=started.id)
    engine.complete(capture.id, {"amount": 10}, by="alice")
    fresh(engine)
    assert sorted(t.element_id for t in engine.tasks(instance_id=started.id)) == ["notify", "stock_check"]
    gateway = [e for e in engine.events(started.id) if e.kind == "gateway_taken" and e.element_id == "risk_gateway"]
    assert gateway[0].detail["taken"] == ["merge"]


def test_lane_roles_and_separation_of_duties(engine, order_bundle, people):
    engine.deploy(order_bundle)
    started = engine.start("order", by="bob")
    [capture] = engine.tasks(instance_id=started.id)
    with pytest.raises(NotAllowed, match="role 'Agent'"):
        engine.complete(capture.id, {"amount": 5000}, by="carol")
    engine.complete(capture.id, {"amount": 5000}, by="bob")
    [review] = engine.tasks(instance_id=started.id)
    with pytest.raises(NotAllowed, match="separation of duties"):
        engine.complete(review.id, {}, by="bob")
    with pytest.raises(NotAllowed, match="role 'Reviewer'"):
        engine.claim(review.id, "alice")
    engine.claim(review.id, "carol")
    assert engine.task(review.id).claimed_by == "carol"
    with pytest.raises(NotAllowed, match="claimed by carol"):
        engine.unclaim(review.id, "bob")
    engine.complete(review.id, {}, by="carol")
    with pytest.raises(TaskAlreadyCompleted):
        engine.complete(review.id, {}, by="carol")


def test_inbox_lists_only_tasks_of_my_lanes(engine, order_bundle, people):
    engine.deploy(order_bundle)
    first = engine.start("order", by="alice")
    engine.complete(engine.tasks(instance_id=first.id)[0].id, {"amount": 5000}, by="alice")
    engine.start("order", by="alice")
    assert {t.element_id for t in engine.tasks(user="carol")} == {"review"}
    assert {t.element_id for t in engine.tasks(user="alice")} == {"capture"}
    assert {t.element_id for t in engine.tasks(user="bob")} == {"capture", "review"}


def test_unknown_process_and_finished_instance(engine, order_bundle, people):
    with pytest.raises(ProcessNotFound):
        engine.start("nope")
    engine.deploy(order_bundle)
    started = engine.start("order", by="alice")
    engine.cancel(started.id, reason="duplicate")
    assert engine.instance(started.id).status == "cancelled"
    with pytest.raises(InstanceNotRunning):
        engine.cancel(started.id)


def test_state_is_stored_without_the_spec(engine, order_bundle, people):
    from engine.core.db.models import ProcessInstance

    engine.deploy(order_bundle)
    started = engine.start("order", by="alice")
    with engine.read_session() as session:
        state = session.get(ProcessInstance, started.id).state
    assert '"spec"' not in state.split('"tasks"')[0]
    assert "subprocess_specs" not in state
    assert "task_specs" not in state


def test_references_are_unique_and_sequential(engine, order_bundle, people):
    engine.deploy(order_bundle)
    refs = [engine.start("order", by="alice").reference for _ in range(3)]
    numbers = [int(r.rsplit("-", 1)[1]) for r in refs]
    assert numbers == [1, 2, 3]
