"""Version diff page and instance migration from the studio: safe moves, refusals with the reason, audit."""

import json
import re

import pytest


def redeploy(engine, sla_bundle, change):
    bpmn = sla_bundle / "sla.bpmn"
    bpmn.write_text(change(bpmn.read_text()))
    return engine.deploy(sla_bundle, by="po")


def longer_sla(xml):
    return xml.replace('"PT1H"', '"PT2H"')


def without_handle(xml):
    """v2 where 'Handle complaint' (and its timer) is replaced by a new task."""
    return (xml.replace('id="handle"', 'id="triage"').replace('name="Handle complaint"', 'name="Triage"')
            .replace('"handle"', '"triage"').replace(">handle<", ">triage<").replace('attachedToRef="handle"',
                                                                                    'attachedToRef="triage"'))


def test_diff_page_lists_and_marks_the_changes(sign_in, engine, sla, sla_bundle, text):
    redeploy(engine, sla_bundle, lambda x: longer_sla(x).replace('name="Escalate"', 'name="Escalate to a manager"'))
    response = sign_in("po").get("/studio/processes/sla/diff?old=1&new=2")
    assert response.status_code == 200
    state = json.loads(re.search(r'id="diff-state">(.*?)</script>', response.get_data(as_text=True), re.S).group(1))
    assert {c["element_id"]: c["aspects"] for c in state["diff"]["changed"]} == {
        "sla_timer": ["timer"], "escalate": ["name"]}
    assert set(state["diagrams"]["sla.bpmn"]) == {"old", "new"}
    assert "sla_timer" in text(response) and "timer" in text(response)


def test_the_diff_shows_old_and_new_values_and_no_restated_defaults(sign_in, engine, sla, sla_bundle):
    # v2 as the modeler writes it: the interrupting timer spelled out (cancelActivity="true", the default)
    redeploy(engine, sla_bundle, lambda x: longer_sla(x).replace(
        'id="sla_timer" name="SLA"', 'id="sla_timer" name="SLA" cancelActivity="true"'))
    html = sign_in("po").get("/studio/processes/sla/diff?old=1&new=2").get_data(as_text=True)
    state = json.loads(re.search(r'id="diff-state">(.*?)</script>', html, re.S).group(1))
    [timer] = state["diff"]["changed"]  # no phantom cancelActivity change
    assert timer["aspects"] == ["timer"] and timer["values"] == [["timer", '"PT1H"', '"PT2H"']]
    assert '<dt>timer</dt><dd><del>&#34;PT1H&#34;</del>' in html and '<ins>&#34;PT2H&#34;</ins>' in html


def test_diff_defaults_to_the_two_newest_versions_and_refuses_nonsense(sign_in, engine, sla, sla_bundle):
    redeploy(engine, sla_bundle, longer_sla)
    client = sign_in("po")
    assert client.get("/studio/processes/sla/diff").status_code == 200
    assert client.get("/studio/processes/sla/diff?old=2&new=2").status_code == 400
    assert client.get("/studio/processes/sla/diff?old=1&new=9").status_code == 400


def test_plan_page_and_a_safe_move(sign_in, engine, sla, sla_bundle, text):
    old = engine.start("sla", by="alice")
    redeploy(engine, sla_bundle, longer_sla)
    client = sign_in("po")
    page = client.get(f"/studio/instances/{old.id}/migrate?to=2")
    assert page.status_code == 200
    assert "can move safely" in text(page)
    assert "timer 'SLA' (sla_timer) is now due 2026-03-02T11:00+00:00 (was 2026-03-02T10:00+00:00)" in text(page)
    response = client.post("/studio/processes/sla/migrate", data={"to_version": 2, "instances": [old.id]})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/instances/{old.id}")
    assert engine.instance(old.id).version == 2
    [event] = [e for e in engine.events(old.id) if e.kind == "instance_migrated"]
    assert (event.actor, event.detail["to_version"]) == ("po", 2)
    assert [t.due_at.hour for t in engine.timers(old.id) if t.pending] == [11]


def test_unsafe_move_is_refused_with_the_reason(sign_in, engine, sla, sla_bundle, text):
    old = engine.start("sla", by="alice")
    redeploy(engine, sla_bundle, without_handle)
    client = sign_in("po")
    page = client.get(f"/studio/instances/{old.id}/migrate?to=2")
    assert "cannot move to v2" in text(page)
    assert "the current step 'Handle complaint' (handle) is removed in the new version" in text(page)
    response = client.post("/studio/processes/sla/migrate", data={"to_version": 2, "instances": [old.id]})
    assert response.status_code == 409
    assert "'Handle complaint' (handle) is removed" in text(response)
    assert engine.instance(old.id).version == 1
    assert not [e for e in engine.events(old.id) if e.kind == "instance_migrated"]


def test_batch_move_reports_each_instance(sign_in, engine, sla, sla_bundle, text):
    first, second = engine.start("sla", by="alice"), engine.start("sla", by="alice")
    engine.cancel(second.id, by="root", reason="duplicate")
    redeploy(engine, sla_bundle, longer_sla)
    response = sign_in("po").post("/studio/processes/sla/migrate",
                                  data={"to_version": 2, "instances": [first.id, second.id, 999]})
    assert response.status_code == 200
    page = text(response)
    assert "1 of 3 moved" in page
    assert f"instance {second.id} is cancelled" in page and "no instance with id 999" in page
    assert engine.instance(first.id).version == 2 and engine.instance(second.id).version == 1


@pytest.mark.parametrize("data", [{"to_version": 2}, {"to_version": "x", "instances": [1]}, {"instances": [1]}])
def test_batch_move_needs_instances_and_a_version(sign_in, engine, sla, data):
    assert sign_in("po").post("/studio/processes/sla/migrate", data=data).status_code == 400


def test_an_instance_of_another_process_is_not_moved(sign_in, engine, sla, sla_bundle, order_bundle, make_user):
    engine.deploy(order_bundle, by="po")
    make_user("agent2", "Agent")
    other = engine.start("order", by="agent2")
    response = sign_in("po").post("/studio/processes/sla/migrate", data={"to_version": 1, "instances": [other.id]})
    assert response.status_code == 409
    assert f"instance {other.id} is not an instance of sla" in response.get_data(as_text=True)


def test_process_page_lists_instances_left_behind(sign_in, engine, sla, sla_bundle, text):
    old = engine.start("sla", by="alice")
    redeploy(engine, sla_bundle, longer_sla)
    new = engine.start("sla", by="alice")
    page = text(sign_in("po").get("/studio/processes/sla"))
    assert old.reference in page and new.reference not in page
