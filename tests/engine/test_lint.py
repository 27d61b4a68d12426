"""Our model lint: each rule on a small model, and the validation report that puts the engine's verdict first."""

import json
from pathlib import Path

import pytest

from engine.core.bundle import read_bundle
from engine.forms.service import FormService
from engine.studio.lint import lint, timer_expression_problem, validate

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="x">\n'
        '<bpmn:process id="p" isExecutable="true">\n')
TAIL = "</bpmn:process>\n</bpmn:definitions>\n"
ROOT = Path(__file__).resolve().parents[2]


def model(body: str) -> dict[str, str]:
    return {"p.bpmn": HEAD + body + TAIL}


def found(files, rule=None):
    return [(f.severity, f.element_id) for f in lint(files) if rule in (None, f.rule)]


def messages(files, rule):
    return [f.message for f in lint(files) if f.rule == rule]


FORM = json.dumps({"type": "object", "properties": {"decision": {"type": "string", "enum": ["yes", "no"]}}})

GATEWAY = """
<bpmn:laneSet><bpmn:lane id="L" name="Agent">
  <bpmn:flowNodeRef>ask</bpmn:flowNodeRef>
</bpmn:lane></bpmn:laneSet>
<bpmn:startEvent id="s"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
<bpmn:userTask id="ask" name="Ask">
  <bpmn:extensionElements><spiffworkflow:properties>
    <spiffworkflow:property name="formJsonSchemaFilename" value="ask.json" />
  </spiffworkflow:properties></bpmn:extensionElements>
</bpmn:userTask>
<bpmn:exclusiveGateway id="g" name="Decide" {default} />
<bpmn:endEvent id="yes_end" /><bpmn:endEvent id="no_end" />
<bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="ask" />
<bpmn:sequenceFlow id="f1" sourceRef="ask" targetRef="g" />
<bpmn:sequenceFlow id="f_yes" sourceRef="g" targetRef="yes_end">{yes}</bpmn:sequenceFlow>
<bpmn:sequenceFlow id="f_no" sourceRef="g" targetRef="no_end">{no}</bpmn:sequenceFlow>
"""


def gateway(yes='<bpmn:conditionExpression>decision == "yes"</bpmn:conditionExpression>', no="",
            default='default="f_no"'):
    files = model(GATEWAY.format(yes=yes, no=no, default=default))
    files["ask.json"] = FORM
    return files


def test_a_clean_model_has_no_findings():
    assert lint(gateway()) == []


def test_the_order_fixture_only_warns_about_missing_forms_and_lanes(order_bundle):
    findings = lint(read_bundle(order_bundle, []))
    assert {f.severity for f in findings} == {"warning"}
    assert {f.rule for f in findings} == {"user-task-form", "user-task-lane"}
    assert ("warning", "stock_check") in [(f.severity, f.element_id) for f in findings if f.rule == "user-task-lane"]


def test_user_task_without_lane_or_form():
    files = model('<bpmn:startEvent id="s"><bpmn:outgoing>f</bpmn:outgoing></bpmn:startEvent>'
                  '<bpmn:userTask id="t" name="Do it" />'
                  '<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="t" />')
    assert found(files, "user-task-lane") == [("warning", "t")]
    assert found(files, "user-task-form") == [("warning", "t")]
    assert "is in no lane" in messages(files, "user-task-lane")[0]


def test_gateway_flow_without_condition_and_no_default():
    files = gateway(default="")
    assert found(files, "gateway") == [("error", "f_no"), ("warning", "g")]
    assert "no default flow" in messages(files, "gateway")[1]


def test_broken_and_forbidden_conditions_are_errors():
    broken = gateway(yes="<bpmn:conditionExpression>decision == </bpmn:conditionExpression>")
    assert found(broken, "condition") == [("error", "f_yes")]
    assert "does not compile" in messages(broken, "condition")[0]
    sneaky = gateway(yes="<bpmn:conditionExpression>decision.__class__</bpmn:conditionExpression>")
    assert found(sneaky, "condition") == [("error", "f_yes")]
    empty = gateway(yes="<bpmn:conditionExpression>  </bpmn:conditionExpression>")
    assert messages(empty, "condition") == ["the condition is empty"]


def test_condition_on_a_field_nobody_sets():
    files = gateway(yes='<bpmn:conditionExpression>approved and len(decision) &gt; 0 and reference'
                        '</bpmn:conditionExpression>')
    assert found(files, "unset-field") == [("warning", "f_yes")]
    assert messages(files, "unset-field") == ["condition uses 'approved', which no form, script or rule of this "
                                              "process sets"]


def test_fields_set_by_scripts_rules_and_comprehension_names_count_as_set():
    files = gateway(yes='<bpmn:conditionExpression>approved and any(x for x in items)</bpmn:conditionExpression>')
    files["p.bpmn"] = files["p.bpmn"].replace(
        '<bpmn:endEvent id="yes_end" />',
        '<bpmn:endEvent id="yes_end" /><bpmn:scriptTask id="sc"><bpmn:script>approved = True\nitems = [1]'
        '</bpmn:script></bpmn:scriptTask>')
    assert found(files, "unset-field") == []


@pytest.mark.parametrize("kind, expression, problem", [
    ("timeDuration", '"PT1H"', None),
    ("timeDuration", '"P1DT12H"', None),
    ("timeDuration", "PT1H", None),  # bare ISO 8601, as Camunda writes it
    ("timeDuration", "P1H", "is not an ISO 8601 duration"),
    ("timeCycle", "R3/PT1H", None),
    ("timeDuration", '"PT"', "is not an ISO 8601 duration"),
    ("timeDuration", '"1 hour"', "is not an ISO 8601 duration"),
    ("timeDuration", '"P1H"', "is not an ISO 8601 duration"),
    ("timeDuration", "3600", "is not a text value"),
    ("timeDuration", "sla_duration", None),
    ("timeDate", '"2030-01-31T09:00:00+00:00"', None),
    ("timeDate", '"31/01/2030"', "is not an ISO 8601 date-time"),
    ("timeCycle", '"R3/PT1H"', None),
    ("timeCycle", '"R/PT10M"', None),
    ("timeCycle", '"3 times a day"', "is not an ISO 8601 repeating interval"),
    ("timeCycle", '"R3/PTX"', "is not an ISO 8601 repeating interval"),
])
def test_timer_expressions(kind, expression, problem):
    result = timer_expression_problem(kind, expression)
    if problem is None:
        assert result is None
    else:
        assert problem in result


def test_timer_without_expression_is_marked_on_its_event():
    files = model('<bpmn:startEvent id="s"><bpmn:outgoing>f</bpmn:outgoing></bpmn:startEvent>'
                  '<bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f</bpmn:incoming>'
                  '<bpmn:timerEventDefinition id="td"><bpmn:timeDuration>"soon"</bpmn:timeDuration>'
                  '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
                  '<bpmn:intermediateCatchEvent id="wait2"><bpmn:timerEventDefinition id="td2" />'
                  '</bpmn:intermediateCatchEvent>'
                  '<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="wait" />')
    assert found(files, "timer") == [("error", "wait"), ("error", "wait2")]


def test_unreachable_elements_but_boundary_events_and_called_processes_are_reached(order_bundle):
    files = read_bundle(order_bundle, [])
    assert found(files, "unreachable") == []
    files["order.bpmn"] = files["order.bpmn"].replace(
        '<bpmn:endEvent id="end" name="Done">',
        '<bpmn:task id="orphan" name="Forgotten" /><bpmn:endEvent id="end" name="Done">')
    assert found(files, "unreachable") == [("warning", "orphan")]
    assert messages(files, "unreachable") == ["'Forgotten' cannot be reached from any start event"]


def test_script_that_breaks_the_sandbox_rules():
    files = model('<bpmn:startEvent id="s"><bpmn:outgoing>f</bpmn:outgoing></bpmn:startEvent>'
                  '<bpmn:scriptTask id="sc"><bpmn:incoming>f</bpmn:incoming>'
                  '<bpmn:script>total = order.__dict__</bpmn:script></bpmn:scriptTask>'
                  '<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="sc" />')
    assert found(files, "script") == [("error", "sc")]


def test_validate_puts_the_engine_verdict_first_then_lint(order_bundle):
    files = read_bundle(order_bundle, [])
    files["order.bpmn"] = files["order.bpmn"].replace('targetRef="notify"', 'targetRef="nowhere"')
    report = validate(files, "order", FormService().check_model)
    assert report[0].rule == "engine" and report[0].severity == "error"
    assert "nowhere" in report[0].message or report[0].element_id
    assert any(f.rule == "user-task-form" for f in report[1:])


def test_validate_of_an_xxe_file_reports_only_the_engine_refusal():
    files = {"p.bpmn": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'}
    report = validate(files, "p", FormService().check_model)
    assert [(f.rule, f.message) for f in report] == [
        ("engine", "document type declarations (DTD, entities) are not allowed")]


@pytest.mark.parametrize("process", sorted(p.name for p in (ROOT / "processes").glob("*.bpmn")))
def test_the_shipped_processes_lint_clean(process):
    """Every gateway of a shipped process has a default flow, every condition reads a field something sets."""
    bundle = {process: (ROOT / "processes" / process).read_text()}
    bundle.update({p.name: p.read_text() for p in (ROOT / "processes").glob("*.dmn")})
    bundle.update({p.name: p.read_text() for p in (ROOT / "forms").glob("*.json")})
    assert [f"{f.severity} {f.element_id}: {f.message}" for f in lint(bundle)] == []
