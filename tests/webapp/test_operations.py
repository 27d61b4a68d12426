"""The operations console: incidents with retry and cancel (one by one or in bulk), corrections of case data."""


import json
import re

import pytest

from tests.support import give_capture_a_form

FORM = {"type": "object", "properties": {"amount": {"type": "integer", "title": "Order amount", "minimum": 1},
                                         "note": {"type": "string", "title": "Note", "maxLength": 20}}}


@pytest.fixture
def failing(engine, order_bundle):
    """The order model with a form on its first task; completed without an amount, its score script fails."""
    give_capture_a_form(order_bundle, FORM)
    engine.deploy(order_bundle, by="root")

    def fail():
        instance = engine.start("order", {"customer_name": "ACME"}, by="alice")
        engine.complete(engine.tasks(instance_id=instance.id)[0].id, {}, by="alice")
        assert engine.instance(instance.id).status == "error"
        return instance
    return fail


def test_incidents_list_the_failing_step_and_error(engine, signed_in, failing, text):
    first, second = failing(), failing()
    page = text(signed_in("sam").get("/operations/"))
    assert "2 cases stopped on an error" in page
    assert first.reference in page and second.reference in page
    assert "Compute score" in page and "NoneType" in page  # the step by name, and its error
    assert "Operations" in text(signed_in("sam").get("/inbox/"))
    assert signed_in("alice").get("/operations/").status_code == 403
    assert "Operations" not in text(signed_in("alice").get("/inbox/"))


def test_correct_a_variable_then_retry_from_the_list(engine, signed_in, failing, text):
    instance = failing()
    sam = signed_in("sam")
    page = text(sam.get(f"/instances/{instance.id}"))
    assert "Correct a value" in page and "Order amount" in page
    url = f"/operations/instances/{instance.id}/variable"
    for data, message in (({"name": "amount", "value": "lots", "reason": "typo"}, "Nothing was changed"),
                          ({"name": "amount", "value": "0", "reason": "typo"}, "Nothing was changed"),
                          ({"name": "amount", "value": "250", "reason": " "}, "give a reason"),
                          ({"name": "secret", "value": "1", "reason": "typo"}, "not a field of any form")):
        assert message in text(sam.post(url, data=data, follow_redirects=True)), data
    assert not [e for e in engine.events(instance.id) if e.kind == "variable_changed"]
    assert signed_in("alice").post(url, data={"name": "amount", "value": "250", "reason": "x"}).status_code == 403
    response = sam.post(url, data={"name": "amount", "value": "250", "reason": "client confirmed by phone"},
                        follow_redirects=True)
    assert "was changed" in text(response)
    [event] = [e for e in engine.events(instance.id) if e.kind == "variable_changed"]
    assert event.actor == "sam" and event.detail == {"fields": ["amount"], "reason": "client confirmed by phone"}
    response = sam.post("/operations/incidents", data={"action": "retry", "instance": [str(instance.id)]},
                        follow_redirects=True)
    assert "1 incident retried" in text(response) and "No incidents" in text(response)
    assert engine.instance(instance.id).status == "running"


def test_bulk_cancel_needs_a_reason_and_a_retry_that_fails_again_says_so(engine, signed_in, failing, text):
    first, second = failing(), failing()
    sam = signed_in("sam")
    ids = [str(first.id), str(second.id)]
    response = sam.post("/operations/incidents", data={"action": "cancel", "instance": ids}, follow_redirects=True)
    assert "nothing was changed" in text(response)
    response = sam.post("/operations/incidents", data={"action": "retry", "instance": ids[:1]},
                        follow_redirects=True)
    assert "0 incidents retried" in text(response) and "failed again" in text(response)
    response = sam.post("/operations/incidents", data={"action": "cancel", "instance": ids, "reason": "duplicate"},
                        follow_redirects=True)
    assert "2 incidents cancelled" in text(response)
    assert {engine.instance(first.id).status, engine.instance(second.id).status} == {"cancelled"}


def test_the_process_diagram_counts_open_cases_per_element(engine, signed_in, failing):
    failing()
    waiting = [engine.start("order", {"customer_name": name}, by="alice") for name in ("B", "C", "D")]
    engine.cancel(waiting[2].id, by="root", reason="duplicate")  # closed cases are not counted
    [incident], _total = engine.incidents()
    capture = engine.tasks(instance_id=waiting[0].id)[0].element_id
    sam = signed_in("sam")
    html = sam.get("/operations/processes/order").get_data(as_text=True)
    counts = json.loads(re.search(r'id="diagram-counts">(.*?)</script>', html).group(1))
    assert counts == {"key": "order", "version": 1, "open_cases": 3, "waiting": {capture: 2},
                      "failed": {incident.element_id: 1}}
    assert f'<tr data-element="{incident.element_id}"><td data-label="Step">Compute score</td>' in html
    assert 'data-zoom="in"' in html and 'data-zoom="fit"' in html
    diagram = sam.get("/operations/processes/order/1/diagram.bpmn")
    assert diagram.status_code == 200 and diagram.mimetype == "application/xml" and b"<bpmn" in diagram.data
    assert 'href="/operations/processes/order"' in sam.get("/operations/").get_data(as_text=True)
    for url in ("/operations/processes/nope", "/operations/processes/order?version=2",
                "/operations/processes/order/2/diagram.bpmn", "/operations/processes/order/1/diagram.bpmn?file=x"):
        assert sam.get(url).status_code == 404, url
    assert signed_in("alice").get("/operations/processes/order").status_code == 403
