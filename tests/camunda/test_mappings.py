"""camunda:inputOutput on tasks and events, camunda:in/out on call activities: small models, both databases."""

import pytest

from engine.errors import InvalidModel
from tests.camunda.modelling import definitions, element, process, simple

IO = """<camunda:inputOutput>
  <camunda:inputParameter name="greeting">hello</camunda:inputParameter>
  <camunda:inputParameter name="double">${amount * 2}</camunda:inputParameter>
  <camunda:inputParameter name="amount">${amount + 1}</camunda:inputParameter>
  <camunda:inputParameter name="letters"><camunda:list><camunda:value>a</camunda:value>
    <camunda:value>${name}</camunda:value></camunda:list></camunda:inputParameter>
  <camunda:inputParameter name="info"><camunda:map><camunda:entry key="who">${name}</camunda:entry>
    <camunda:entry key="tags"><camunda:list><camunda:value>x</camunda:value></camunda:list></camunda:entry>
    </camunda:map></camunda:inputParameter>
  <camunda:inputParameter name="nothing" />
  <camunda:outputParameter name="result">${double + amount}</camunda:outputParameter>
  <camunda:outputParameter name="captured">${letters}</camunda:outputParameter>
  <camunda:outputParameter name="card">${info}</camunda:outputParameter>
</camunda:inputOutput>"""


def test_inputs_are_local_to_the_task_and_outputs_are_set_outside(engine):
    engine.deploy_files(simple(element("userTask", "review", IO)), "io")
    instance = engine.start("io", {"amount": 10, "name": "Ann"}, by=None)
    [task] = engine.tasks(instance_id=instance.id)
    done = engine.complete(task.id, {}, by=None)
    assert done.status == "completed"
    data = engine.instance_detail(instance.id).data
    assert data["result"] == 20 + 11  # the output sees the local amount (11), not the outside one
    assert data["amount"] == 10  # the input shadowed it only while the task ran
    assert data["captured"] == ["a", "Ann"]
    assert data["card"] == {"who": "Ann", "tags": ["x"]}
    for local in ("greeting", "double", "letters", "info", "nothing"):
        assert local not in data


def test_python_script_parameters(engine):
    io = """<camunda:inputOutput>
      <camunda:inputParameter name="triple"><camunda:script scriptFormat="python">amount * 3</camunda:script>
      </camunda:inputParameter>
      <camunda:inputParameter name="label"><camunda:script scriptFormat="python">parts = ['n', str(triple)]
label = '-'.join(parts)</camunda:script></camunda:inputParameter>
      <camunda:outputParameter name="out">${label}</camunda:outputParameter>
    </camunda:inputOutput>"""
    calc = element("scriptTask", "calc", io, 'scriptFormat="python"', "<bpmn:script>seen = label</bpmn:script>")
    engine.deploy_files(simple(calc), "py")
    instance = engine.start("py", {"amount": 4}, by=None)
    assert instance.status == "completed"
    data = engine.instance_detail(instance.id).data
    assert data["out"] == "n-12" and data["seen"] == "n-12"  # the task itself sees its inputs
    assert "parts" not in data and "triple" not in data  # a script's own names stay in the script


def test_mapping_on_events(engine):
    throw_io = ('<camunda:inputOutput><camunda:inputParameter name="local">${amount}</camunda:inputParameter>'
                '<camunda:outputParameter name="thrown">${local + 1}</camunda:outputParameter></camunda:inputOutput>')
    end_io = '<camunda:inputOutput><camunda:inputParameter name="x">1</camunda:inputParameter></camunda:inputOutput>'
    files = {"model.bpmn": definitions(process(
        "p", element("startEvent", "start"), element("intermediateThrowEvent", "note", throw_io),
        element("endEvent", "end", end_io)))}
    engine.deploy_files(files, "events")
    instance = engine.start("events", {"amount": 5}, by=None)
    assert instance.status == "completed"
    data = engine.instance_detail(instance.id).data
    assert data["thrown"] == 6 and "local" not in data


def test_a_failing_mapping_puts_the_instance_in_error_naming_the_element(engine):
    io = '<camunda:inputOutput><camunda:inputParameter name="x">${missing + 1}</camunda:inputParameter>' \
         '</camunda:inputOutput>'
    engine.deploy_files(simple(element("userTask", "review", io)), "bad")
    instance = engine.start("bad", {}, by=None)
    assert instance.status == "error"
    assert "review" in instance.error and "input parameter 'x'" in instance.error and "missing" in instance.error
    assert engine.tasks(instance_id=instance.id) == []


def test_a_malformed_mapping_is_refused_at_deploy_naming_the_element(engine):
    io = ('<camunda:inputOutput><camunda:inputParameter name="x"><camunda:list /><camunda:map />'
          '</camunda:inputParameter></camunda:inputOutput>')
    with pytest.raises(InvalidModel) as refused:
        engine.deploy_files(simple(element("userTask", "review", io)), "bad")
    assert refused.value.element_id == "review" and "more than one value" in str(refused.value)


def test_compat_reports_mappings_as_run_except_where_they_cannot_run(engine):
    io = '<camunda:inputOutput><camunda:inputParameter name="x">1</camunda:inputParameter></camunda:inputOutput>'
    result = engine.deploy_files(simple(element("userTask", "review", io)), "io")
    [item] = [c for c in result.compat if c["extension"] == "camunda:inputOutput"]
    assert (item["element_id"], item["handling"], item["blocking"]) == ("review", "run", False)
    gateway = simple(element("exclusiveGateway", "gw", io))
    with pytest.raises(InvalidModel, match="inputOutput on gw"):
        engine.deploy_files(gateway, "gw")
    blocked = engine.deploy_files(gateway, "gw", allow_ignored=True)
    assert [c["blocking"] for c in blocked.compat if c["extension"] == "camunda:inputOutput"] == [True]


CHILD = process("child", element("startEvent", "c_start"),
                element("scriptTask", "double", attributes='scriptFormat="python"',
                        body="<bpmn:script>doubled = x * 2\nsecret = 1</bpmn:script>"),
                element("endEvent", "c_end"))


def call(mappings: str) -> dict[str, str]:
    return {"model.bpmn": definitions(process(
        "parent", element("startEvent", "start"),
        element("callActivity", "call", mappings, attributes='calledElement="child"'),
        element("endEvent", "end")), CHILD)}


def test_call_activity_passes_only_what_in_and_out_name(engine):
    mappings = ('<camunda:in source="amount" target="x" />'
                '<camunda:in sourceExpression="${amount + 100}" target="y" />'
                '<camunda:in businessKey="${\'BK-\'}${amount}" />'
                '<camunda:out source="doubled" target="result" />'
                '<camunda:out sourceExpression="${execution.hasVariable(\'other\')}" target="child_saw_other" />'
                '<camunda:out sourceExpression="${y}-${businessKey}" target="child_inputs" />')
    engine.deploy_files(call(mappings), "parent")
    instance = engine.start("parent", {"amount": 7, "other": "kept"}, by=None)
    assert instance.status == "completed", instance.error
    data = engine.instance_detail(instance.id).data
    assert data["result"] == 14
    assert data["child_saw_other"] is False  # not passed in
    assert data["child_inputs"] == "107-BK-7"
    assert data["other"] == "kept" and "secret" not in data and "doubled" not in data


def test_call_activity_with_all_variables(engine):
    engine.deploy_files(call('<camunda:in variables="all" /><camunda:out variables="all" />'), "parent")
    instance = engine.start("parent", {"x": 3}, by=None)
    assert instance.status == "completed", instance.error
    data = engine.instance_detail(instance.id).data
    assert (data["doubled"], data["secret"], data["x"]) == (6, 1, 3)


def test_call_activity_without_mappings_passes_nothing(engine):
    engine.deploy_files(call(""), "parent")
    instance = engine.start("parent", {"x": 3}, by=None)
    assert instance.status == "error" and "x" in instance.error  # the child's script has no x, as in Camunda


def test_a_call_mapping_without_target_is_refused_at_deploy(engine):
    with pytest.raises(InvalidModel) as refused:
        engine.deploy_files(call('<camunda:in source="amount" />'), "parent")
    assert refused.value.element_id == "call" and "needs a target" in str(refused.value)


def test_a_call_activity_calls_a_process_deployed_on_its_own(engine):
    engine.deploy_files({"child.bpmn": definitions(CHILD)}, "child")
    parent = call('<camunda:in source="amount" target="x" /><camunda:out source="doubled" target="result" />')
    parent["model.bpmn"] = parent["model.bpmn"].replace(CHILD, "")
    result = engine.deploy_files(parent, "parent")
    assert result.process_ids == ["parent", "child"]
    assert "called/child/child.bpmn" in engine.definition_files("parent")  # bound to the version deployed now
    engine.deploy_files({"child.bpmn": definitions(CHILD.replace("x * 2", "x * 3"))}, "child")  # child v2
    instance = engine.start("parent", {"amount": 5}, by=None)
    assert instance.status == "completed", instance.error
    assert engine.instance_detail(instance.id).data["result"] == 10
    engine.deploy_files(parent, "parent")  # deployed again, the parent calls the newest child
    assert engine.instance_detail(engine.start("parent", {"amount": 5}, by=None).id).data["result"] == 15


def test_a_call_activity_to_a_process_nowhere_deployed_is_refused(engine):
    parent = call("")
    parent["model.bpmn"] = parent["model.bpmn"].replace(CHILD, "")
    with pytest.raises(InvalidModel, match="'child' was not found"):
        engine.deploy_files(parent, "parent")
