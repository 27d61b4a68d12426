"""Instance migration: a running instance moves to a newer version when that is safe, is refused with the reason
otherwise, and everything derived from its state (task rows, timers, audit) follows in the same transaction."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from engine.clock import ManualClock
from engine.errors import InstanceNotRunning, MigrationRefused, ProcessNotFound

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return ManualClock(START)


@pytest.fixture
def app_config(app_config, clock):
    return {**app_config, "CLOCK": clock}


@pytest.fixture
def people(make_user):
    make_user("alice", "Agent")
    make_user("carol", "Reviewer")
    make_user("po", "Process Owner")


def fresh(engine):
    """Forget every in-memory workflow and spec, so the next step restores from the database."""
    engine.live.clear()
    engine.models._items.clear()


def at_review(engine, clock):
    """An order instance waiting in 'Review order' with its one-hour reminder running (started at 09:00)."""
    instance = engine.start("order", {"customer_name": "ACME"}, by="alice")
    [capture] = engine.tasks(instance_id=instance.id)
    engine.complete(capture.id, {"amount": 1500}, by="alice")
    clock.advance(minutes=30)
    return instance


def redeploy(engine, order_bundle, change):
    bpmn = order_bundle / "order.bpmn"
    bpmn.write_text(change(bpmn.read_text()))
    return engine.deploy(order_bundle, by="po")


def pending_timers(engine, instance_id):
    return [(t.element_id, t.due_at) for t in engine.timers(instance_id) if t.pending]


def test_changed_timer_moves_and_counts_from_when_it_started(engine, order_bundle, people, clock):
    engine.deploy(order_bundle, by="po")
    instance = at_review(engine, clock)
    [review] = engine.tasks(instance_id=instance.id)
    engine.claim(review.id, by="carol")
    assert pending_timers(engine, instance.id) == [("review_reminder", START + timedelta(hours=1))]
    assert redeploy(engine, order_bundle, lambda x: x.replace('"PT1H"', '"PT2H"')).version == 2

    plan = engine.migration_plan(instance.id, 2)
    assert plan.safe and plan.reasons == []
    assert plan.changes == ["timer 'Reminder' (review_reminder) is now due 2026-03-02T11:00+00:00 "
                            "(was 2026-03-02T10:00+00:00)"]
    assert engine.instance(instance.id).version == 1  # a plan changes nothing

    fresh(engine)
    moved = engine.migrate_instance(instance.id, 2, by="po")
    assert (moved.version, moved.lock_version) == (2, engine.instance(instance.id).lock_version)
    assert pending_timers(engine, instance.id) == [("review_reminder", START + timedelta(hours=2))]
    [task] = engine.tasks(instance_id=instance.id)
    assert (task.id, task.claimed_by) == (review.id, "carol")  # same task, claim kept: the lane did not change
    [event] = [e for e in engine.events(instance.id) if e.kind == "instance_migrated"]
    assert (event.actor, event.detail["from_version"], event.detail["to_version"]) == ("po", 1, 2)

    fresh(engine)
    engine.complete(task.id, {"approved": True}, by="carol")
    detail = engine.instance_detail(instance.id)
    assert detail.instance.version == 2
    assert sorted(t.element_id for t in detail.tasks) == ["notify", "stock_check"]


def test_unchanged_timer_keeps_its_due_time_and_new_lane_drops_the_claim(engine, order_bundle, people, clock):
    engine.deploy(order_bundle, by="po")
    instance = at_review(engine, clock)
    [review] = engine.tasks(instance_id=instance.id)
    engine.claim(review.id, by="carol")
    redeploy(engine, order_bundle, lambda x: x.replace('name="Reviewer"', 'name="Senior Reviewer"')
             .replace('name="Review order"', 'name="Review the order"'))
    engine.migrate_instance(instance.id, 2, by="po")
    assert pending_timers(engine, instance.id) == [("review_reminder", START + timedelta(hours=1))]
    [task] = engine.tasks(instance_id=instance.id)
    assert (task.name, task.lane, task.claimed_by) == ("Review the order", "Senior Reviewer", None)


def test_removed_current_step_is_refused_and_nothing_changes(engine, order_bundle, people, clock):
    engine.deploy(order_bundle, by="po")
    instance = at_review(engine, clock)
    before = engine.instance(instance.id)

    def drop_review(xml):
        xml = re.sub(r'<bpmn:userTask id="review".*?</bpmn:userTask>', "", xml, flags=re.S)
        xml = re.sub(r'<bpmn:boundaryEvent id="review_reminder".*?</bpmn:boundaryEvent>', "", xml, flags=re.S)
        xml = re.sub(r'<bpmn:(scriptTask|endEvent) id="remind(_end)?".*?</bpmn:\1>', "", xml, flags=re.S)
        xml = re.sub(r'<bpmn:sequenceFlow id="(f5|f_remind|f_remind_end)"[^>]*/>', "", xml)
        xml = xml.replace('targetRef="review">', 'targetRef="merge">')
        return re.sub(r"<bpmn:flowNodeRef>(review|review_reminder|remind|remind_end)</bpmn:flowNodeRef>", "", xml)
    redeploy(engine, order_bundle, drop_review)

    plan = engine.migration_plan(instance.id, 2)
    assert not plan.safe
    assert "the current step 'Review order' (review) is removed in the new version" in plan.reasons
    with pytest.raises(MigrationRefused) as refused:
        engine.migrate_instance(instance.id, 2, by="po")
    assert "'Review order' (review) is removed" in str(refused.value)
    after = engine.instance(instance.id)
    assert (after.version, after.lock_version) == (1, before.lock_version)
    assert not [e for e in engine.events(instance.id) if e.kind == "instance_migrated"]
    fresh(engine)
    [review] = engine.tasks(instance_id=instance.id)
    engine.complete(review.id, {}, by="carol")  # still runs on its own version


def test_incompatible_change_of_a_waiting_timer_is_refused(engine, order_bundle, people, clock):
    engine.deploy(order_bundle, by="po")
    instance = at_review(engine, clock)
    redeploy(engine, order_bundle, lambda x: x.replace('cancelActivity="false"', 'cancelActivity="true"'))
    plan = engine.migration_plan(instance.id, 2)
    assert plan.reasons == ["the current step 'Reminder' (review_reminder) changed incompatibly (cancel_activity)"]


def test_a_passed_element_that_was_removed_is_refused(engine, order_bundle, people, clock):
    engine.deploy(order_bundle, by="po")
    instance = at_review(engine, clock)

    def drop_score(xml):
        xml = re.sub(r'<bpmn:scriptTask id="score".*?</bpmn:scriptTask>', "", xml, flags=re.S)
        xml = xml.replace('<bpmn:sequenceFlow id="f3" sourceRef="score" targetRef="risk_rule" />', "")
        return xml.replace('targetRef="score"', 'targetRef="risk_rule"').replace(
            "<bpmn:flowNodeRef>score</bpmn:flowNodeRef>", "")
    redeploy(engine, order_bundle, drop_score)
    plan = engine.migration_plan(instance.id, 2)
    assert plan.reasons == ["the instance has already passed 'Compute score' (score), which the new version "
                            "removes"]


def test_version_and_status_refusals(engine, order_bundle, people, clock):
    engine.deploy(order_bundle, by="po")
    instance = at_review(engine, clock)
    redeploy(engine, order_bundle, lambda x: x.replace('name="Done"', 'name="Finished"'))
    assert engine.migration_plan(instance.id, 1).reasons == ["the instance already runs on version 1"]
    with pytest.raises(ProcessNotFound):
        engine.migrate_instance(instance.id, 7, by="po")
    newer = engine.start("order", by="alice")
    with pytest.raises(MigrationRefused, match="moving back from version 2 to 1 is not supported"):
        engine.migrate_instance(newer.id, 1, by="po")
    engine.cancel(instance.id, by="po", reason="test")
    assert engine.migration_plan(instance.id, 2).reasons == ["the instance is cancelled, not running"]
    with pytest.raises(InstanceNotRunning):
        engine.migrate_instance(instance.id, 2, by="po")


def test_instance_inside_a_called_process_moves_with_it(engine, order_bundle, people, clock):
    engine.deploy(order_bundle, by="po")
    instance = at_review(engine, clock)
    [review] = engine.tasks(instance_id=instance.id)
    engine.complete(review.id, {}, by="carol")
    checks = order_bundle / "checks.bpmn"
    checks.write_text(checks.read_text().replace('name="Check stock"', 'name="Check the stock"'))
    engine.deploy(order_bundle, by="po")
    plan = engine.migration_plan(instance.id, 2)
    assert plan.safe, plan.reasons
    engine.migrate_instance(instance.id, 2, by="po")
    fresh(engine)
    names = sorted(t.name for t in engine.tasks(instance_id=instance.id))
    assert names == ["Check the stock", "Notify customer"]
    for task in engine.tasks(instance_id=instance.id):
        engine.complete(task.id, {}, by="alice" if task.lane != "Reviewer" else "carol")
    assert engine.instance(instance.id).status == "completed"
