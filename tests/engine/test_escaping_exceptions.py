"""The smallest models behind the raw exceptions issue 14 saw escaping the engine: each is now a domain error — a
refused deploy naming the element, or the instance's `error` status naming element and reason — never a Python
exception reaching the CLI, the web app or a worker."""

from __future__ import annotations

import pytest

from engine.errors import InvalidModel
from tests.engine.test_status_truth import END, HEAD, START, flows, model

# "No output task connected" (SpiffWorkflow's StartTask check): a process with nothing to start from.
NO_START = model("nostart", '<bpmn:userTask id="t" name="T"/>')

# A correlation expression naming a variable the message does not carry: SpiffWorkflow evaluates it while the
# message is caught, outside any running task (a NameError there used to escape `send_message`).
CORRELATED = HEAD + '''<bpmn:message id="m1" name="paid"/>
  <bpmn:correlationProperty id="cp" name="order"><bpmn:correlationPropertyRetrievalExpression messageRef="m1">
    <bpmn:messagePath>order_number</bpmn:messagePath></bpmn:correlationPropertyRetrievalExpression>
  </bpmn:correlationProperty>
  <bpmn:collaboration id="c"><bpmn:correlationKey id="k" name="k">
    <bpmn:correlationPropertyRef>cp</bpmn:correlationPropertyRef></bpmn:correlationKey></bpmn:collaboration>
  <bpmn:process id="paid" isExecutable="true">''' + START + '''
    <bpmn:intermediateCatchEvent id="wait_for_payment" name="Wait for payment">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f9</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="m1"/></bpmn:intermediateCatchEvent>''' + END + flows(
    ("f1", "s", "wait_for_payment"), ("f9", "wait_for_payment", "e")) + "</bpmn:process></bpmn:definitions>"


@pytest.mark.parametrize("xml", [NO_START, model("empty", "")])
def test_a_process_without_a_start_event_is_refused_at_deploy_naming_it(engine, xml):
    key = "nostart" if "nostart" in xml else "empty"
    with pytest.raises(InvalidModel, match=rf"element {key}\b.*No start event found"):
        engine.deploy_files({f"{key}.bpmn": xml}, key)
    assert key not in [p.key for p in engine.processes(all_versions=True)]


def test_a_correlation_expression_that_fails_is_the_instances_error(engine):
    engine.deploy_files({"paid.bpmn": CORRELATED}, "paid")
    instance = engine.start("paid")
    assert instance.status == "running"
    caught = engine.send_message("paid", {}, {"amount": 10})  # no `order_number` in the message
    assert caught.id == instance.id and caught.status == "error"
    assert caught.error.startswith("element wait_for_payment") and "NameError" in caught.error
    assert "order_number" in caught.error
    assert engine.events(instance.id)[-1].kind == "error"
    # The last good state is kept: after a fix of the data, retry waits for the message again.
    assert engine.retry(instance.id, {"order_number": "A-1"}).status in ("running", "completed")
