"""The Camunda dialect's parser: SpiffWorkflow's, with Camunda service tasks and candidate groups as lanes."""

from __future__ import annotations

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser, UserTaskParser
from SpiffWorkflow.spiff.specs.defaults import UserTask

from engine.camunda.el import is_expression
from engine.camunda.service_task import CamundaServiceTask

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
IMPLEMENTATIONS = ("class", "delegateExpression", "expression")


class CamundaServiceTaskParser(SpiffTaskParser):
    """serviceTask / sendTask: external (`camunda:type="external"`), or by class, delegate or expression."""

    def create_task(self):
        get = lambda name: self.node.get(f"{{{CAMUNDA_NS}}}{name}")  # noqa: E731
        if get("type") == "external":
            if not get("topic"):
                self.raise_validation_exception('an external task needs camunda:topic')
            kind, target = "external", get("topic")
        else:
            found = [(name, get(name)) for name in IMPLEMENTATIONS if get(name)]
            if not found:
                self.raise_validation_exception("a service task needs camunda:class, camunda:delegateExpression, "
                                                "camunda:expression or camunda:type=\"external\"")
            kind, target = found[0]
        extensions = self.parse_extensions()
        return CamundaServiceTask(self.spec, self.bpmn_id, kind, target, result_variable=get("resultVariable"),
                                  prescript=extensions.get("preScript"), postscript=extensions.get("postScript"),
                                  **self.bpmn_attributes)


class CamundaUserTaskParser(UserTaskParser):
    """A user task outside any lane takes a single literal `camunda:candidateGroups` as its lane (role)."""

    def create_task(self):
        task = super().create_task()
        groups = self.node.get(f"{{{CAMUNDA_NS}}}candidateGroups")
        if task.lane is None and groups and "," not in groups and not is_expression(groups):
            task.lane = groups.strip()
        return task


class CamundaParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (CamundaServiceTaskParser, CamundaServiceTask),
        full_tag("sendTask"): (CamundaServiceTaskParser, CamundaServiceTask),
        full_tag("userTask"): (CamundaUserTaskParser, UserTask),
    }
