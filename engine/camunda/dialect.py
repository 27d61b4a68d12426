"""The Camunda 7 dialect: detection, the compat report, and rewriting Camunda extensions into ours before parsing.

`prepare` walks every element once. Each `camunda:` attribute or extension element is reported (compat.py); the
ones we map are rewritten in the parsed tree (never in the stored files): plain ISO timer values are quoted so the
script engine reads them as text, `camunda:collection` becomes BPMN's loop data input, `camunda:decisionRef`
becomes SpiffWorkflow's `calledDecisionId`, and `camunda:formField`s become a JSON Schema form (forms.py) named
in the task's `spiffworkflow:properties`. Scripts in a language other than Python are refused, naming the element.
"""

from __future__ import annotations

from lxml import etree
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from engine.camunda import compat, listeners
from engine.camunda.el import is_expression
from engine.camunda.forms import form_of
from engine.camunda.parser import CAMUNDA_NS, CamundaParser
from engine.core.bundle import BPMN_NS, SPIFF_NS
from engine.core.dialects import CompatItem, Prepared
from engine.errors import InvalidModel

PYTHON = ("python", "python3", "")
TIMER_TAGS = {f"{{{BPMN_NS}}}{name}" for name in ("timeDuration", "timeDate", "timeCycle")}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _owner_id(node: etree._Element) -> str | None:
    """The id of the BPMN element an extension belongs to."""
    while node is not None:
        if node.get("id") and node.tag.startswith(f"{{{BPMN_NS}}}") and _local(node.tag) != "extensionElements":
            return node.get("id")
        node = node.getparent()
    return None


class CamundaDialect:
    """Models drawn in Camunda Modeler for Camunda 7 (the `camunda:` namespace)."""

    name = "camunda"

    def detects(self, roots: dict[str, etree._Element]) -> bool:
        return any(CAMUNDA_NS in (root.nsmap or {}).values() or
                   root.xpath("boolean(//@*[namespace-uri()=$ns] | //*[namespace-uri()=$ns])", ns=CAMUNDA_NS)
                   for name, root in roots.items() if name.endswith(".bpmn"))

    def parser(self, validate: bool) -> CamundaParser:
        return CamundaParser(validator=VALIDATOR if validate else None)

    def prepare(self, roots: dict[str, etree._Element]) -> Prepared:
        prepared = Prepared()
        for file, root in roots.items():
            if file.endswith(".bpmn"):
                _Walk(file, prepared).run(root)
        return prepared


class _Walk:
    def __init__(self, file: str, prepared: Prepared):
        self.file, self.prepared = file, prepared

    def report(self, item: CompatItem) -> None:
        self.prepared.compat.append(item)

    def refuse(self, node: etree._Element, message: str) -> None:
        raise InvalidModel(message, file=self.file, element_id=_owner_id(node), line=node.sourceline)

    def run(self, root: etree._Element) -> None:
        for node in list(root.iter()):
            if not isinstance(node.tag, str):
                continue
            for attribute in list(node.attrib):
                if attribute.startswith(f"{{{CAMUNDA_NS}}}"):
                    self.attribute(node, _local(attribute))
            if node.tag.startswith(f"{{{CAMUNDA_NS}}}"):
                self.element(node, _local(node.tag))
            elif node.tag in TIMER_TAGS:
                self.timer(node)
            elif node.tag == f"{{{BPMN_NS}}}scriptTask":
                self.script(node, node.get("scriptFormat"), node.find(f"{{{BPMN_NS}}}script"))
            elif node.tag == f"{{{BPMN_NS}}}conditionExpression":
                language = (node.get("language") or "").lower()
                if language and language not in PYTHON + ("juel",):
                    self.refuse(node, f"a condition in {language} cannot run here; write it as ${{...}} or Python")

    def attribute(self, node: etree._Element, name: str) -> None:
        element_id, line = _owner_id(node), node.sourceline
        if name == "resource" and _local(node.tag) == "scriptTask":
            self.refuse(node, "a script loaded with camunda:resource cannot run here; put Python in the model")
        if name == "candidateGroups":
            value = node.get(f"{{{CAMUNDA_NS}}}candidateGroups") or ""
            if is_expression(value) or "," in value:
                self.report(compat.overridden(name, element_id, self.file, line, "ignored",
                                              "only one literal group can become the task's lane", True))
                return
        if name in ("asyncBefore", "asyncAfter", "async") and _local(node.tag) == "userTask":
            self.report(compat.overridden(name, element_id, self.file, line, "mapped",
                                          "a user task already waits in its own committed step"))
            return
        if name == "collection":
            self.collection(node)
        if name == "decisionRef":
            self.decision(node)
        if name == "formKey" and _local(node.tag) == "userTask" and node.find(
                f".//{{{CAMUNDA_NS}}}formField") is None:
            self.report(compat.overridden(name, element_id, self.file, line, "ignored",
                                          "external and embedded form files are not rendered; the task's form "
                                          "takes no fields", True))
            return
        self.report(compat.item(name, element_id, self.file, line))

    def element(self, node: etree._Element, name: str) -> None:
        if name == "script":
            self.script(node, node.get("scriptFormat"), node, resource=node.get("resource"))
            return
        if name == "formData":
            self.form(node)
        if name in compat.NESTED and name not in ("properties", "validation", "constraint"):
            return
        if name == "property" and _local(node.getparent().tag) == "properties":
            return
        if name in ("inputOutput", "executionListener", "taskListener", "in", "out"):
            self.report(self.mapping_or_listener(node, name))
            return
        self.report(compat.item(name, _owner_id(node), self.file, node.sourceline))

    def mapping_or_listener(self, node: etree._Element, name: str) -> CompatItem:
        """Run where the element can run it; ignored (blocking) on gateways, boundary events and the process."""
        owner = node.getparent().getparent()
        kind, where = _local(owner.tag), _local(owner.tag)
        if kind == "sequenceFlow":
            target = owner.getroottree().getroot().find(f".//*[@id='{owner.get('targetRef')}']")
            kind = _local(target.tag) if target is not None else ""
            where = f"the flow into a {kind}"
        ignore = lambda reason: compat.overridden(name, owner.get("id"), self.file, node.sourceline,  # noqa: E731
                                                  "ignored", reason, True)
        if name.endswith("Listener") and not listeners.runs(node):
            events = listeners.TASK_EVENTS if name == "taskListener" else listeners.EXECUTION_EVENTS
            return ignore(f"{listeners.event_of(node) or 'no'} event listeners are not run (only {', '.join(events)})")
        if kind == "process" and name == "executionListener":
            if listeners.event_of(node) == "start":
                return compat.item(name, owner.get("id"), self.file, node.sourceline, "as the process starts")
            return ignore("a process's end listeners are not run (its start listeners are)")
        if name in ("in", "out") and kind != "callActivity":
            return ignore(f"camunda:{name} only maps the variables of a call activity")
        if kind not in compat.PROGRAMMABLE:
            return ignore(f"not run on {where} (only on tasks, subprocesses, call activities and start, end and "
                          "intermediate events)")
        return compat.item(name, owner.get("id"), self.file, node.sourceline)

    def script(self, node: etree._Element, language: str | None, body, resource: str | None = None) -> None:
        language = (language or "").lower()
        if resource or language not in PYTHON:
            what = f"a {language or 'script'} script" + (f" loaded from {resource}" if resource else "")
            self.refuse(node, f"{what} cannot run here: scripts must be inline Python (sandboxed); "
                              "rewrite it in Python or move the logic to a service-task handler")

    def timer(self, node: etree._Element) -> None:
        text = (node.text or "").strip()
        if text and not is_expression(text) and text[0] not in "'\"":
            node.text = repr(text)
            self.report(compat.overridden("timer", _owner_id(node), self.file, node.sourceline, "mapped",
                                          f"plain ISO 8601 value {text}"))

    def collection(self, node: etree._Element) -> None:
        value = (node.get(f"{{{CAMUNDA_NS}}}collection") or "").strip()
        name = value[2:-1].strip() if value[:2] in ("${", "#{") and value.endswith("}") else value
        if not name.isidentifier():
            self.refuse(node, f"camunda:collection {value!r} must name a variable (e.g. ${{items}})")
        reference = etree.SubElement(node, f"{{{BPMN_NS}}}loopDataInputRef")
        reference.text = name
        element = node.get(f"{{{CAMUNDA_NS}}}elementVariable")
        if element:
            item = etree.SubElement(node, f"{{{BPMN_NS}}}inputDataItem")
            item.set("id", element)
            item.set("name", element)

    def decision(self, node: etree._Element) -> None:
        properties = _extension(node, "calledDecisionId")
        properties.text = node.get(f"{{{CAMUNDA_NS}}}decisionRef")

    def form(self, node: etree._Element) -> None:
        task = node.getparent().getparent()
        if _local(task.tag) != "userTask":
            return
        schema, ui = form_of(node, task.get("id"), lambda n, m: self.refuse(n, m))
        key = f"camunda-{task.get('id')}.json"
        self.prepared.forms[key] = schema
        self.prepared.forms[f"camunda-{task.get('id')}.ui.json"] = ui
        container = _extension(task, "properties")
        for prop, value in (("formJsonSchemaFilename", key),
                            ("formUiSchemaFilename", f"camunda-{task.get('id')}.ui.json")):
            entry = etree.SubElement(container, f"{{{SPIFF_NS}}}property")
            entry.set("name", prop)
            entry.set("value", value)


def _extension(task: etree._Element, local: str) -> etree._Element:
    """A new spiffworkflow:<local> element in the task's extensionElements (made when missing)."""
    extensions = task.find(f"{{{BPMN_NS}}}extensionElements")
    if extensions is None:
        extensions = etree.Element(f"{{{BPMN_NS}}}extensionElements")
        documentation = task.findall(f"{{{BPMN_NS}}}documentation")
        task.insert(len(documentation), extensions)  # the schema wants documentation first
    return etree.SubElement(extensions, f"{{{SPIFF_NS}}}{local}")
