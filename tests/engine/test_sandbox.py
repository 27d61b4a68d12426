"""Scripts run sandboxed: escapes and runaway code stop the instance in `error` with a ScriptError."""

import pytest

from engine.errors import InstanceNotRunning

TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:process id="scripted" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="run_code" name="Run code">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="after" name="After">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="e"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="run_code" />
    <bpmn:sequenceFlow id="f2" sourceRef="run_code" targetRef="after" />
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>
"""


def deploy_script(engine, script: str, key: str = "scripted"):
    from xml.sax.saxutils import escape

    engine.deploy_files({"scripted.bpmn": TEMPLATE.format(script=escape(script))}, key)


@pytest.fixture
def quick_engine(app_config, database_url):
    from tests.support import empty_tables
    from webapp import create_app

    empty_tables(database_url)
    app = create_app({**app_config, "SCRIPT_TIME_LIMIT": 0.3})
    return app.extensions["clientflow"]


@pytest.mark.parametrize(("script", "expected"), [
    ("x = __import__('os')", "invalid variable name"),
    ("x = ().__class__.__bases__", "invalid attribute name"),
    ("x = open('/etc/passwd').read()", "name 'open' is not defined"),
    ("import os", "__import__ not found"),
    ("x = eval('1 + 1')", "Eval calls are not allowed"),
    ("x = getattr(1, 'real')", "name 'getattr' is not defined"),
    ("x = 10 ** 10 ** 10", "script exceeded"),
    ("x = 'a' * 10 ** 9", "script exceeded"),
    ("n = 0\nwhile True:\n    n = n + 1", "script exceeded"),
])
def test_escapes_stop_the_instance_with_script_error(quick_engine, script, expected):
    deploy_script(quick_engine, script)
    instance = quick_engine.start("scripted", {"customer_name": "Ann"})
    assert instance.status == "error"
    assert expected in instance.error
    assert "element run_code" in instance.error
    events = quick_engine.events(instance.id)
    assert events[-1].kind == "error" and events[-1].element_id == "run_code"
    assert quick_engine.tasks(instance_id=instance.id) == []


def test_error_names_the_line_and_retry_after_fixing_data(engine):
    deploy_script(engine, "total = 1\nresult = total + missing_value")
    instance = engine.start("scripted")
    assert instance.status == "error"
    assert "line 2" in instance.error and "missing_value" in instance.error
    with pytest.raises(InstanceNotRunning, match="not in error"):
        engine.retry(engine.start("scripted", {"missing_value": 1}).id)
    engine.live.clear()
    retried = engine.retry(instance.id, {"missing_value": 41})
    assert retried.status == "running"
    assert engine.instance_detail(instance.id).data["result"] == 42
    assert [t.element_id for t in engine.tasks(instance_id=instance.id)] == ["after"]


def test_allowed_scripts_work(engine):
    deploy_script(engine, "items = sorted([3, 1, 2])\nlabel = 'n=%d' % len(items)\ntotal = sum(items)\n"
                          "due = (datetime(2026, 1, 1) + timedelta(days=2)).isoformat()")
    instance = engine.start("scripted")
    data = engine.instance_detail(instance.id).data
    assert (data["items"], data["label"], data["total"]) == ([1, 2, 3], "n=3", 6)
    assert data["due"] == "2026-01-03T00:00:00"
