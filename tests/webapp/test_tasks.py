"""The task page: forms, server-side validation, conflicts, compliance sign-off and separation of duties."""

import json

import pytest


@pytest.fixture
def captured(engine, order, staff, open_task):
    """An order instance whose first task (Capture order, lane Agent) is open."""
    instance = engine.start("order", {"customer_name": "ACME"}, by="alice")
    return instance, open_task(instance.id, "capture")


def test_task_page_shows_the_form_with_the_instance_version(signed_in, captured, text):
    instance, task = captured
    page = signed_in("alice").get(f"/tasks/{task.id}")
    assert page.status_code == 200
    assert f'name="expected_version" value="{instance.lock_version}"' in page.text
    assert '<label for="data">' in page.text and "Case data" in page.text
    assert "ACME" in text(page) and instance.reference in text(page)


def test_complete_through_the_form(engine, signed_in, captured, open_task):
    instance, task = captured
    response = signed_in("alice").post(f"/tasks/{task.id}", data={
        "data": json.dumps({"amount": 50}), "expected_version": instance.lock_version})
    assert response.status_code == 303 and response.headers["Location"] == "/inbox/"
    assert {t.element_id for t in engine.tasks(instance_id=instance.id)} == {"notify", "stock_check"}
    assert engine.instance_detail(instance.id).data["amount"] == 50


def test_invalid_data_shows_the_field_error_keeps_the_input_and_changes_nothing(engine, signed_in, captured, text):
    instance, task = captured
    response = signed_in("alice").post(f"/tasks/{task.id}", data={
        "data": '{"amount": 50', "expected_version": instance.lock_version})
    assert response.status_code == 422
    page = text(response)
    assert "not valid JSON" in page and "nothing was saved" in page
    assert '{&#34;amount&#34;: 50' in response.text  # the user's input is kept
    assert 'aria-invalid="true"' in response.text
    assert engine.instance(instance.id).lock_version == instance.lock_version
    assert engine.task(task.id).id == task.id


def test_a_stale_version_is_a_conflict_with_the_input_kept(engine, signed_in, captured, text):
    instance, task = captured
    engine.claim(task.id, "bob")
    engine.unclaim(task.id, "bob")   # the instance moved on twice while alice was typing
    response = signed_in("alice").post(f"/tasks/{task.id}", data={
        "data": '{"amount": 70}', "expected_version": instance.lock_version})
    assert response.status_code == 409
    assert "This case changed while you were working on it" in text(response)
    assert "&#34;amount&#34;: 70" in response.text
    fresh = engine.instance(instance.id)
    assert f'name="expected_version" value="{fresh.lock_version}"' in response.text
    assert engine.task(task.id).id == task.id


def test_double_submit_or_completed_by_someone_else_is_a_clear_message(engine, signed_in, captured, text):
    instance, task = captured
    alice, bob = signed_in("alice"), signed_in("bob")
    form = {"data": '{"amount": 10}', "expected_version": instance.lock_version}
    assert alice.post(f"/tasks/{task.id}", data=form).status_code == 303
    for client in (alice, bob):
        response = client.post(f"/tasks/{task.id}", data=form)
        assert response.status_code == 303 and response.headers["Location"] == "/inbox/"
        assert "This task is no longer open" in text(client.get("/inbox/"))
    completions = [e for e in engine.events(instance.id) if e.kind == "task_completed"]
    assert len(completions) == 1


def test_a_task_outside_my_lanes_is_refused(signed_in, captured, text):
    _, task = captured
    carol = signed_in("carol")
    for response in (carol.get(f"/tasks/{task.id}"), carol.post(f"/tasks/{task.id}", data={"data": "{}"})):
        assert response.status_code == 403
        assert "Agent lane" in text(response)


def test_an_unknown_task_is_a_404_page(signed_in, staff, text):
    response = signed_in("alice").get("/tasks/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert "Not found" in text(response) and "Back to your inbox" in text(response)


def test_a_task_claimed_by_someone_else_shows_no_form(engine, signed_in, captured, text):
    _, task = captured
    engine.claim(task.id, "bob")
    page = signed_in("alice").get(f"/tasks/{task.id}")
    assert "bob is working on this task" in text(page)
    assert 'name="expected_version"' not in page.text


# -- compliance sign-off ------------------------------------------------------------------------------------

@pytest.fixture
def collected(engine, signoff, staff, open_task):
    """A sign-off instance whose documents olivia collected: the Compliance sign-off is open."""
    instance = engine.start("signoff", {"client_name": "Umbrella"}, by="olivia")
    engine.complete(open_task(instance.id).id, {"company_registration": "2019/123456/07"}, by="olivia")
    return engine.instance(instance.id), open_task(instance.id, "signoff_task")


def test_compliance_sign_off_shows_collected_data_read_only_above_the_decision(signed_in, collected, text):
    _, task = collected
    response = signed_in("cora").get(f"/tasks/{task.id}")
    page = text(response)
    assert "Collected information" in page and "2019/123456/07" in page
    assert page.index("Collected information") < page.index("Request more information")
    assert 'name="company_registration"' not in response.text  # shown, not editable
    assert 'type="radio"' in response.text and "Submit decision" in page


def test_rejecting_needs_a_reason(engine, signed_in, collected, text):
    instance, task = collected
    response = signed_in("cora").post(f"/tasks/{task.id}", data={
        "decision": "reject", "reason": "  ", "expected_version": instance.lock_version})
    assert response.status_code == 422
    assert "A reason is required to reject" in text(response)
    assert engine.instance(instance.id).lock_version == instance.lock_version
    response = signed_in("cora").post(f"/tasks/{task.id}", data={
        "decision": "reject", "reason": "Registration number does not match", "expected_version":
        instance.lock_version})
    assert response.status_code == 303
    final = engine.instance_detail(instance.id)
    assert final.instance.status == "completed" and "end_rejected" in final.completed_elements
    assert final.data["reason"] == "Registration number does not match"


def test_request_more_information_loops_back_to_collection(engine, signed_in, collected, open_task):
    instance, task = collected
    signed_in("cora").post(f"/tasks/{task.id}", data={
        "decision": "more_info", "reason": "Need the VAT number", "expected_version": instance.lock_version})
    assert open_task(instance.id).element_id == "collect"


def test_the_collector_cannot_sign_off(engine, signed_in, signoff, text):
    # oscar holds both roles, so only separation of duties stands between him and his own sign-off
    second = engine.start("signoff", {"client_name": "Initech"}, by="oscar")
    collect = engine.tasks(instance_id=second.id)[0]
    engine.complete(collect.id, {"company_registration": "x"}, by="oscar")
    signoff_task = engine.tasks(instance_id=second.id)[0]
    current = engine.instance(second.id)
    response = signed_in("oscar").post(f"/tasks/{signoff_task.id}", data={
        "decision": "approve", "expected_version": current.lock_version})
    assert response.status_code == 403
    assert "separation of duties" in text(response)
    assert engine.instance(second.id).lock_version == current.lock_version
    response = signed_in("cora").post(f"/tasks/{signoff_task.id}", data={
        "decision": "approve", "expected_version": current.lock_version})
    assert response.status_code == 303
    assert engine.instance(second.id).status == "completed"
