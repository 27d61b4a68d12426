"""One status truth: every failure while running or saving leaves the instance in `error` naming the element, and
`retry` works after a fix; completion is checked by the engine (a 1,000-round loop); data size limits."""

from __future__ import annotations

import pytest

from engine.errors import InvalidInput, InvalidModel

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="x">\n')
START = '<bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
END = '<bpmn:endEvent id="e"><bpmn:incoming>f9</bpmn:incoming></bpmn:endEvent>'


def model(pid: str, body: str) -> str:
    return HEAD + f'<bpmn:process id="{pid}" isExecutable="true">{body}</bpmn:process></bpmn:definitions>\n'


def flows(*pairs: tuple[str, str, str]) -> str:
    return "".join(f'<bpmn:sequenceFlow id="{i}" sourceRef="{a}" targetRef="{b}"/>' for i, a, b in pairs)


def timer_model(expression: str) -> str:
    return model("waiting", START + f'''<bpmn:intermediateCatchEvent id="wait" name="Wait">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f9</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>{expression}</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>''' + END + flows(("f1", "s", "wait"), ("f9", "wait", "e")))


def test_an_unquoted_camunda_style_timer_is_taken_as_iso_8601(engine):
    engine.deploy_files({"waiting.bpmn": timer_model("PT1H")}, "waiting")
    instance = engine.start("waiting")
    assert instance.status == "running"
    [timer] = engine.timers(instance.id)
    assert timer.element_id == "wait" and (timer.due_at - instance.started_at).total_seconds() == pytest.approx(3600)


@pytest.mark.parametrize("expression", ["'PT1X'", "P1H", "3600"])
def test_a_static_timer_value_that_is_not_iso_8601_is_refused_at_deploy(engine, expression):
    with pytest.raises(InvalidModel, match="element wait") as refused:
        engine.deploy_files({"waiting.bpmn": timer_model(expression)}, "waiting")
    assert refused.value.line == 3


def test_a_computed_timer_that_fails_puts_the_instance_in_error_and_retry_fixes_it(engine):
    engine.deploy_files({"waiting.bpmn": timer_model("wait_for")}, "waiting")
    instance = engine.start("waiting")
    assert instance.status == "error"
    assert instance.error == "element wait: NameError: name 'wait_for' is not defined"
    assert engine.timers(instance.id) == []
    retried = engine.retry(instance.id, {"wait_for": "PT2H"})
    assert retried.status == "running"
    [timer] = engine.timers(instance.id)
    assert (timer.due_at - instance.started_at).total_seconds() == pytest.approx(7200, abs=5)  # counted from the retry


MULTI = START + '''<bpmn:scriptTask id="each" name="Each"><bpmn:incoming>f1</bpmn:incoming>
    <bpmn:outgoing>f2</bpmn:outgoing>
  <bpmn:multiInstanceLoopCharacteristics><bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>
  <bpmn:inputDataItem id="item" name="item"/></bpmn:multiInstanceLoopCharacteristics>
  <bpmn:script>seen = item</bpmn:script></bpmn:scriptTask>
  <bpmn:userTask id="after" name="After"><bpmn:incoming>f2</bpmn:incoming>
    <bpmn:outgoing>f9</bpmn:outgoing></bpmn:userTask>
''' + END + flows(("f1", "s", "each"), ("f2", "each", "after"), ("f9", "after", "e"))

SERVICE = START + '''<bpmn:serviceTask id="call" name="Call"><bpmn:extensionElements>
  <spiffworkflow:serviceTaskOperator id="http/GetRequest" resultVariable="r"><spiffworkflow:parameters/>
  </spiffworkflow:serviceTaskOperator></bpmn:extensionElements>
  <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f9</bpmn:outgoing></bpmn:serviceTask>''' + END + flows(
    ("f1", "s", "call"), ("f9", "call", "e"))


@pytest.mark.parametrize(("key", "body", "element", "message"), [
    ("multi", MULTI, "each", "TypeError: 'NoneType' object is not iterable"),
    ("service", SERVICE, "call", "service task calls are not supported (operation 'http/GetRequest')"),
])
def test_an_exception_inside_spiffworkflow_is_the_instances_error(engine, key, body, element, message):
    engine.deploy_files({f"{key}.bpmn": model(key, body)}, key)
    instance = engine.start(key)
    assert instance.status == "error"
    assert instance.error.startswith(f"element {element}: ") and message in instance.error
    assert engine.events(instance.id)[-1].kind == "error"


def test_a_multi_instance_over_a_missing_collection_runs_after_retry_with_it(engine):
    engine.deploy_files({"multi.bpmn": model("multi", MULTI)}, "multi")
    instance = engine.start("multi")
    assert engine.retry(instance.id, {"items": [1, 2, 3]}).status == "running"
    assert [t.element_id for t in engine.tasks(instance_id=instance.id)] == ["after"]


LOOP = START + '''<bpmn:scriptTask id="count" name="Count"><bpmn:incoming>f1</bpmn:incoming>
  <bpmn:incoming>again</bpmn:incoming>
    <bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>
  <bpmn:exclusiveGateway id="more" default="done"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>again</bpmn:outgoing>
  <bpmn:outgoing>done</bpmn:outgoing></bpmn:exclusiveGateway>
  <bpmn:userTask id="check" name="Check"><bpmn:incoming>done</bpmn:incoming>
    <bpmn:outgoing>f9</bpmn:outgoing></bpmn:userTask>
''' + END + flows(("f1", "s", "count"), ("f2", "count", "more"), ("done", "more", "check"), ("f9", "check", "e")) + \
    '<bpmn:sequenceFlow id="again" sourceRef="more" targetRef="count">' \
    '<bpmn:conditionExpression>n &lt; 1000</bpmn:conditionExpression></bpmn:sequenceFlow>'


def test_a_loop_of_1000_rounds_is_not_stored_as_completed(engine):
    """SpiffWorkflow's tree walk stops at depth 1,000 (~333 rounds of this loop): the engine's own check must not."""
    engine.deploy_files({"loop.bpmn": model("loop", LOOP)}, "loop")
    instance = engine.start("loop", {"n": 0})
    assert instance.status == "running"
    assert engine.instance_detail(instance.id).data["n"] == 1000
    [task] = engine.tasks(instance_id=instance.id)
    assert task.element_id == "check"
    assert engine.complete(task.id).status == "completed"


def test_state_over_the_size_limit_keeps_the_last_good_state(app_config, database_url):
    from tests.support import empty_tables
    from webapp import create_app

    empty_tables(database_url)
    engine = create_app({**app_config, "MAX_STATE_BYTES": 200_000}).extensions["clientflow"]
    body = START + '''<bpmn:userTask id="ask" name="Ask"><bpmn:incoming>f1</bpmn:incoming>
    <bpmn:outgoing>f2</bpmn:outgoing>
      </bpmn:userTask><bpmn:scriptTask id="grow" name="Grow"><bpmn:incoming>f2</bpmn:incoming>
    <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>blob = 'x' * 300000</bpmn:script></bpmn:scriptTask>
      <bpmn:userTask id="later" name="Later"><bpmn:incoming>f3</bpmn:incoming>
    <bpmn:outgoing>f9</bpmn:outgoing></bpmn:userTask>
    ''' + END + flows(("f1", "s", "ask"), ("f2", "ask", "grow"), ("f3", "grow", "later"), ("f9", "later", "e"))
    engine.deploy_files({"big.bpmn": model("big", body)}, "big")
    instance = engine.start("big")
    [ask] = engine.tasks(instance_id=instance.id)
    failed = engine.complete(ask.id)
    assert failed.status == "error"
    assert "the instance state is 0.3 MB, over the 0.190735 MB limit" in failed.error
    assert [t.element_id for t in engine.tasks(instance_id=instance.id)] == ["ask"]  # the last good state
    assert "blob" not in engine.instance_detail(instance.id).data


def test_a_value_over_the_field_limit_is_refused_and_nothing_starts(engine):
    engine.deploy_files({"waiting.bpmn": timer_model("PT1H")}, "waiting")
    with pytest.raises(InvalidInput, match=r"notes: the value is .* bytes, over the 262,144-byte limit"):
        engine.start("waiting", {"notes": "x" * 300_000})
    assert engine.list_instances() == []


def test_retry_data_over_the_field_limit_is_refused_and_the_instance_stays_in_error(engine):
    body = START + '''<bpmn:scriptTask id="split" name="Split"><bpmn:incoming>f1</bpmn:incoming>
    <bpmn:outgoing>f9</bpmn:outgoing><bpmn:script>share = total / parts</bpmn:script></bpmn:scriptTask>
    ''' + END + flows(("f1", "s", "split"), ("f9", "split", "e"))
    engine.deploy_files({"divide.bpmn": model("divide", body)}, "divide")
    instance = engine.start("divide", {"total": 10, "parts": 0})
    assert instance.status == "error"
    with pytest.raises(InvalidInput, match=r"parts: the value is .* bytes, over the 262,144-byte limit"):
        engine.retry(instance.id, {"parts": "9" * 300_000})
    assert engine.instance(instance.id).status == "error"
    assert engine.retry(instance.id, {"parts": 2}).status == "completed"
