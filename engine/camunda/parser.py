"""The Camunda dialect's parser: SpiffWorkflow's, with Camunda service tasks, candidate groups as lanes, call
activities that pass only what `camunda:in`/`camunda:out` name, and each element's mappings and listeners
(program.py) as its pre/post-scripts. Events take pre/post-scripts too (SpiffWorkflow's own events do not)."""

from __future__ import annotations

from copy import deepcopy

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import EndEvent, IntermediateCatchEvent, IntermediateThrowEvent, StartEvent
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser, SpiffProcessParser
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser, UserTaskParser
from SpiffWorkflow.spiff.specs.defaults import CallActivity, UserTask
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask

from engine.camunda import continuations, listeners, mapping, program
from engine.camunda.el import is_expression
from engine.camunda.service_task import CamundaServiceTask
from engine.core.bundle import BPMN_NS

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


class CamundaStartEvent(StartEvent, SpiffBpmnTask):
    pass


class CamundaEndEvent(EndEvent, SpiffBpmnTask):
    pass


class CamundaIntermediateCatchEvent(IntermediateCatchEvent, SpiffBpmnTask):
    pass


class CamundaIntermediateThrowEvent(IntermediateThrowEvent, SpiffBpmnTask):
    pass


class CamundaCallActivity(CallActivity):
    """A call activity passing the called process only its `camunda:in`s and taking back only its `camunda:out`s."""

    camunda_in: list = []
    camunda_out: list = []

    def copy_data(self, my_task, subworkflow):
        start = subworkflow.get_next_task(subworkflow.task_tree, skip_subprocesses=True, spec_name="Start")
        start.set_data(**_mapped(my_task, mapping.call_inputs, self.camunda_in, my_task.data))

    def update_data(self, my_task, subworkflow):
        my_task.data.update(_mapped(my_task, mapping.call_outputs, self.camunda_out,
                                    deepcopy(subworkflow.last_task.data)))


def _mapped(task, function, mappings, data):
    try:
        return function(mappings, data)
    except mapping.MappingError as err:
        raise WorkflowTaskException(f"{task.task_spec.bpmn_id}: {err}", task=task) from err


PROGRAMMED = (SpiffBpmnTask,)  # specs that run pre/post-scripts, so can run a Camunda program


class CamundaProcessParser(SpiffProcessParser):
    """Attaches each element's Camunda mappings and listeners to its spec once it is parsed."""

    def parse_node(self, node):
        known = node.get("id") in self.spec.task_specs
        spec = super().parse_node(node)
        if not known:
            self._attach(node, self.spec.task_specs.get(node.get("id"), spec))
        return spec

    def _attach(self, node, spec) -> None:
        try:
            inputs, outputs = mapping.read_parameters(node)
            own = [listener for item in mapping.extension_elements(node, "executionListener", "taskListener")
                   if (listener := listeners.read(item)) is not None]
            if node.tag == full_tag("startEvent") and self.node.tag == full_tag("process") \
                    and node.getparent() is self.node:
                own = self._process_start_listeners() + own  # the process starts with its start event
            take = [(flow.get("sourceRef"), listener) for flow in self._incoming(node.get("id"))
                    for item in mapping.extension_elements(flow, "executionListener")
                    if (listener := listeners.read(item)) is not None]
            if isinstance(spec, CamundaCallActivity):
                spec.camunda_in, spec.camunda_out = mapping.read_call_mappings(node)
        except (mapping.MappingError, listeners.ListenerError) as err:
            raise ValidationException(str(err), node=node, file_name=self.filename) from err
        if not (inputs or outputs or own or take) or not isinstance(spec, PROGRAMMED):
            return  # elements that cannot run them (gateways, boundary events): ignored, in the compat report
        spec.prescript, spec.postscript = program.programs(
            node.get("id"), inputs, outputs, own, take, spec.prescript, spec.postscript)

    def _process_start_listeners(self) -> list:
        found = [listeners.read(item) for item in mapping.extension_elements(self.node, "executionListener")]
        return [listener for listener in found if listener is not None and listener["event"] == "start"]

    def _incoming(self, node_id: str) -> list:
        return [flow for flows in self.outgoing_sequence_flows.values() for flow in flows
                if flow.get("targetRef") == node_id]



class CamundaParser(SpiffBpmnParser):
    PROCESS_PARSER_CLASS = CamundaProcessParser
    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (CamundaServiceTaskParser, CamundaServiceTask),
        full_tag("sendTask"): (CamundaServiceTaskParser, CamundaServiceTask),
        full_tag("userTask"): (CamundaUserTaskParser, UserTask),
        **{full_tag(tag): (SpiffBpmnParser.OVERRIDE_PARSER_CLASSES[full_tag(tag)][0], spec_class)
           for tag, spec_class in (("startEvent", CamundaStartEvent), ("endEvent", CamundaEndEvent),
                                   ("intermediateCatchEvent", CamundaIntermediateCatchEvent),
                                   ("intermediateThrowEvent", CamundaIntermediateThrowEvent),
                                   ("callActivity", CamundaCallActivity))},
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.async_elements: dict[str, tuple[bool, bool, tuple]] = {}

    def add_bpmn_xml(self, bpmn, filename=None):
        """Also note the elements marked `camunda:asyncBefore`/`asyncAfter` (`camunda:async` is asyncBefore)."""
        super().add_bpmn_xml(bpmn, filename)
        for node in bpmn.iter():
            before = _true(node.get(f"{{{CAMUNDA_NS}}}asyncBefore")) or _true(node.get(f"{{{CAMUNDA_NS}}}async"))
            after = _true(node.get(f"{{{CAMUNDA_NS}}}asyncAfter"))
            if node.get("id") and (before or after) and node.tag != full_tag("userTask"):
                cycle = node.find(f"{{{BPMN_NS}}}extensionElements/{{{CAMUNDA_NS}}}failedJobRetryTimeCycle")
                waits = continuations.retry_cycle(cycle.text if cycle is not None else None, node.get("id"))
                self.async_elements[node.get("id")] = (before, after, waits)

    def get_spec(self, process_id, required=True):
        spec = super().get_spec(process_id, required)
        if spec is not None and self.async_elements:
            for task_spec in spec.task_specs.values():
                marked = self.async_elements.get(getattr(task_spec, "bpmn_id", None))
                if marked is not None and not task_spec.manual:
                    continuations.make_async(task_spec, *marked)
        return spec


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"
