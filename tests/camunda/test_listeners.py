"""Execution listeners (start, end, take), task listeners (create, complete) and handler BPMN errors: small models,
both databases."""

import pytest

from engine.errors import InvalidModel
from tests.camunda.modelling import definitions, element, process, simple


def recorder(engine, trail, *names):
    """Register a handler per class name that records its call and sets `last` to its name."""
    for name in names:
        def handler(variables, name=name):
            trail.append((name, variables.get("approved")))
            return {"last": name}
        engine.camunda.handlers.register(name, handler)


def listener(kind, target, event=None, tag="executionListener"):
    event_attribute = f' event="{event}"' if event else ""
    return f'<camunda:{tag} {kind}="{target}"{event_attribute} />'


def test_execution_and_task_listeners_run_in_camunda_order(engine):
    trail = []
    recorder(engine, trail, "a.Take", "a.Start", "a.Create", "a.Complete", "a.End")
    review = element("userTask", "review", listener("class", "a.Start", "start")
                     + listener("class", "a.End", "end")
                     + listener("delegateExpression", "${aCreate}", "create", "taskListener")
                     + listener("expression", "${aComplete.notify(task)}", "complete", "taskListener"))
    engine.camunda.handlers.register("aCreate", engine.camunda.handlers.get("a.Create"))
    engine.camunda.handlers.register("aComplete", engine.camunda.handlers.get("a.Complete"))
    files = simple(review, flow_extensions={"start->review": listener("class", "a.Take")})
    engine.deploy_files(files, "listen")
    instance = engine.start("listen", {}, by=None)
    assert trail == [("a.Take", None), ("a.Start", None), ("a.Create", None)]
    [task] = engine.tasks(instance_id=instance.id)
    engine.complete(task.id, {"approved": True}, by=None)
    assert trail[3:] == [("a.Complete", True), ("a.End", True)]  # the complete listener sees the form's values
    assert engine.instance_detail(instance.id).data["last"] == "a.End"


def test_expression_and_python_listeners_on_events(engine):
    end = element("endEvent", "end", listener("expression", "${execution.setVariable('finished', true)}", "start"))
    python = ('<camunda:executionListener event="end"><camunda:script scriptFormat="python">count = count + 1'
              '</camunda:script></camunda:executionListener>')
    files = {"model.bpmn": definitions(process("p", element("startEvent", "start", python), end))}
    engine.deploy_files(files, "events")
    instance = engine.start("events", {"count": 1}, by=None)
    assert instance.status == "completed", instance.error
    data = engine.instance_detail(instance.id).data
    assert data["finished"] is True and data["count"] == 2


def test_take_listener_runs_only_on_the_flow_taken(engine):
    trail = []
    recorder(engine, trail, "a.Yes", "a.No")
    gateway = element("exclusiveGateway", "gw", attributes='default="f_no"')
    yes = element("scriptTask", "yes", attributes='scriptFormat="python"', body="<bpmn:script>x = 1</bpmn:script>")
    flows = ('<bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="yes"><bpmn:extensionElements>'
             + listener("class", "a.Yes") + '</bpmn:extensionElements><bpmn:conditionExpression>${go}'
             '</bpmn:conditionExpression></bpmn:sequenceFlow>'
             '<bpmn:sequenceFlow id="f_no" sourceRef="gw" targetRef="end"><bpmn:extensionElements>'
             + listener("class", "a.No") + '</bpmn:extensionElements></bpmn:sequenceFlow>'
             '<bpmn:sequenceFlow id="f_yes_end" sourceRef="yes" targetRef="end" />')
    files = {"model.bpmn": definitions(process("p", element("startEvent", "start"), gateway, extra=flows
                                               + element("endEvent", "end") + yes))}
    engine.deploy_files(files, "take")
    assert engine.start("take", {"go": True}, by=None).status == "completed"
    assert trail == [("a.Yes", None)]
    assert engine.start("take", {"go": False}, by=None).status == "completed"
    assert trail == [("a.Yes", None), ("a.No", None)]


def test_a_listener_without_a_registered_handler_is_an_error_naming_element_and_handler(engine):
    engine.deploy_files(simple(element("userTask", "review", listener("class", "org.example.Missing", "start"))),
                        "missing")
    instance = engine.start("missing", {}, by=None)
    assert instance.status == "error"
    assert "review" in instance.error and "org.example.Missing" in instance.error


def test_non_python_script_listener_is_refused_at_deploy_naming_the_element(engine):
    script = ('<camunda:executionListener event="start"><camunda:script scriptFormat="javascript">x = 1'
              '</camunda:script></camunda:executionListener>')
    with pytest.raises(InvalidModel) as refused:
        engine.deploy_files(simple(element("userTask", "review", script)), "js", allow_ignored=True)
    assert refused.value.element_id == "review" and "javascript" in str(refused.value)


def test_listener_events_not_run_here_are_reported_and_block(engine):
    files = simple(element("userTask", "review", listener("class", "a.Assign", "assignment", "taskListener")
                           + listener("class", "a.Start", "start")))
    with pytest.raises(InvalidModel, match="assignment event listeners are not run"):
        engine.deploy_files(files, "assign")
    result = engine.deploy_files(files, "assign", allow_ignored=True)
    handling = sorted((c["extension"], c["handling"]) for c in result.compat if "Listener" in c["extension"])
    assert handling == [("camunda:executionListener", "run"), ("camunda:taskListener", "ignored")]


BOUNDARY = ('<bpmn:boundaryEvent id="caught" attachedToRef="charge"><bpmn:errorEventDefinition errorRef="err" />'
            '</bpmn:boundaryEvent><bpmn:endEvent id="rejected" />'
            '<bpmn:sequenceFlow id="f_caught" sourceRef="caught" targetRef="rejected" />')


def charging():
    return {"model.bpmn": definitions(process(
        "p", element("startEvent", "start"), element("serviceTask", "charge", attributes='camunda:class="a.Charge"'),
        element("endEvent", "end"), extra=BOUNDARY)).replace(
        "<bpmn:process", '<bpmn:error id="err" errorCode="DECLINED" /><bpmn:process')}


def test_a_handler_bpmn_error_reaches_the_boundary_event_for_its_code(engine):
    from engine.camunda.handlers import BpmnError

    def charge(variables):
        raise BpmnError("DECLINED", "card declined", {"reason": "card"})
    engine.camunda.handlers.register("a.Charge", charge)
    engine.deploy_files(charging(), "charge")
    instance = engine.start("charge", {}, by=None)
    assert instance.status == "completed", instance.error
    detail = engine.instance_detail(instance.id)
    assert detail.data["reason"] == "card"
    assert engine.camunda.external_tasks() == []


def test_an_uncaught_handler_bpmn_error_is_an_incident(engine):
    from engine.camunda.handlers import BpmnError

    def charge(variables):
        raise BpmnError("OTHER", "unexpected")
    engine.camunda.handlers.register("a.Charge", charge)
    engine.deploy_files(charging(), "charge")
    instance = engine.start("charge", {}, by=None)
    assert instance.status == "error" and "OTHER" in instance.error and "charge" in instance.error


def test_a_failing_handler_is_an_incident_and_retry_runs_it_again(engine):
    calls = []

    def charge(variables):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("gateway timeout")
        return {"charged": True}
    engine.camunda.handlers.register("a.Charge", charge)
    engine.deploy_files(charging(), "charge")
    instance = engine.start("charge", {}, by=None)
    assert instance.status == "error" and "charge" in instance.error and "gateway timeout" in instance.error
    found, _total = engine.incidents()  # the operations view's list
    assert [(i.instance.id, i.element_id) for i in found] == [(instance.id, "charge")]
    retried = engine.retry(instance.id)
    assert retried.status == "completed" and len(calls) == 2


def test_a_waiting_event_runs_its_start_listener_once(engine):
    trail = []
    recorder(engine, trail, "a.Wait")
    counter = listener("expression", "${execution.setVariable('started', started + 1)}", "start") \
        + listener("class", "a.Wait", "start")
    wait = element("intermediateCatchEvent", "wait", counter,
                   body='<bpmn:messageEventDefinition messageRef="go" />')
    review = element("userTask", "review")
    files = {"model.bpmn": definitions('<bpmn:message id="go" name="go" />', process(
        "p", element("startEvent", "start"), element("parallelGateway", "fork"), wait, element("endEvent", "end"),
        extra='<bpmn:sequenceFlow id="f_fork_review" sourceRef="fork" targetRef="review" />' + review
              + '<bpmn:endEvent id="end2" /><bpmn:sequenceFlow id="f_review_end2" sourceRef="review" '
                'targetRef="end2" />'))}
    engine.deploy_files(files, "waiting")
    instance = engine.start("waiting", {"started": 0}, by=None)
    [task] = engine.tasks(instance_id=instance.id)
    engine.complete(task.id, {}, by=None)  # the instance runs on while the message event keeps waiting
    engine.send_message("go", {"reference": instance.reference}, {})
    assert engine.instance(instance.id).status == "completed"
    assert engine.instance_detail(instance.id).data["started"] == 1  # set once, kept while the event waited
    assert trail == [("a.Wait", None)]


def test_process_start_listeners_run_as_the_process_starts_and_end_listeners_are_reported(engine):
    trail = []
    recorder(engine, trail, "a.ProcessStart", "a.StartEvent", "a.SubProcess", "a.Sub")
    sub_start = element("startEvent", "sub_start", listener("class", "a.Sub", "start"))
    sub = element("subProcess", "sub", listener("class", "a.SubProcess", "start"),
                  body=sub_start + element("endEvent", "sub_end")
                  + '<bpmn:sequenceFlow id="f_sub" sourceRef="sub_start" targetRef="sub_end" />')
    body = process("p", element("startEvent", "start", listener("class", "a.StartEvent", "start")), sub,
                   element("endEvent", "end"))
    files = {"model.bpmn": definitions(body.replace(
        '<bpmn:process id="p" isExecutable="true">',
        '<bpmn:process id="p" isExecutable="true"><bpmn:extensionElements>'
        + listener("class", "a.ProcessStart", "start") + "</bpmn:extensionElements>"))}
    result = engine.deploy_files(files, "proc")
    [item] = [c for c in result.compat if c["element_id"] == "p" and c["extension"] == "camunda:executionListener"]
    assert item["handling"] == "run"
    assert engine.start("proc", {}, by=None).status == "completed"
    # each once: the process's start listeners do not run again in the subprocess, nor the subprocess's own
    assert [name for name, _ in trail] == ["a.ProcessStart", "a.StartEvent", "a.SubProcess", "a.Sub"]
    ended = files["model.bpmn"].replace(listener("class", "a.ProcessStart", "start"),
                                        listener("class", "a.ProcessStart", "end"))
    with pytest.raises(InvalidModel, match="end listeners are not run"):
        engine.deploy_files({"model.bpmn": ended}, "proc2")
