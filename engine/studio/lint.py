"""Our own model lint: problems the BPMN parser accepts but that break or surprise at run time.

Pure functions over a bundle's files (BPMN/DMN XML text and form JSON); nothing here touches a database.
"""

from __future__ import annotations

import ast
import builtins
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from lxml import etree

from engine.core import timer_values
from engine.core.bundle import BPMN_NS, SPIFF_NS, build_model, parse_xml
from engine.core.scripts import SandboxViolation, compile_expression
from engine.errors import InvalidModel

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
FORM_PROPERTY = "formJsonSchemaFilename"

FLOW_NODES = frozenset({
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask", "receiveTask",
    "callActivity", "subProcess", "transaction", "adHocSubProcess",
    "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway",
})
SCOPES = frozenset({"process", "subProcess", "transaction", "adHocSubProcess"})
# Names every script and condition can use without a form or script setting them first.
PROVIDED = frozenset({"reference", "datetime", "timedelta", "date", "notify", "True", "False", "None"})



@dataclass(frozen=True)
class Finding:
    """One problem of a model: `error` blocks a deploy, `warning` only informs."""

    severity: str
    message: str
    element_id: str | None = None
    file: str | None = None
    line: int | None = None
    rule: str = "engine"

    def as_dict(self) -> dict:
        return asdict(self)


def _q(tag: str, ns: str = BPMN_NS) -> str:
    return f"{{{ns}}}{tag}"


def _local(node) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


class _Doc:
    """One parsed BPMN file with the lookups the rules share."""

    def __init__(self, name: str, root):
        self.name = name
        self.root = root
        self.by_id = {n.get("id"): n for n in root.iter() if isinstance(n.tag, str) and n.get("id")}
        self.flows = list(root.iter(_q("sequenceFlow")))
        self.nodes = [n for n in root.iter() if isinstance(n.tag, str) and n.tag.startswith(f"{{{BPMN_NS}}}")
                      and _local(n) in FLOW_NODES]

    def finding(self, severity: str, rule: str, node, message: str) -> Finding:
        return Finding(severity, message, node.get("id"), self.name, node.sourceline, rule)


def lint(files: dict[str, str]) -> list[Finding]:
    """Every lint finding of a bundle, errors first, in file and line order."""
    docs = [_Doc(name, parse_xml(text, name)) for name, text in sorted(files.items()) if name.endswith(".bpmn")]
    found: list[Finding] = []
    set_names = names_set(files, docs)
    for doc in docs:
        found += user_task_problems(doc)
        found += timer_problems(doc)
        found += gateway_problems(doc)
        found += condition_problems(doc, set_names)
        found += script_problems(doc)
        found += unreachable(doc)
    return sorted(found, key=lambda f: (f.severity != "error", f.file or "", f.line or 0, f.element_id or ""))


def validate(files: dict[str, str], key: str | None, check_forms, dialects=None) -> list[Finding]:
    """The engine's own verdict (parse, validation, forms, the dialect's compat report) followed by the lint findings.

    `check_forms` is `FormService.check_model`; `dialects` the engine's (engine/core/dialects.py). A file that is not
    even well-formed XML gets no lint."""
    findings = []
    try:
        model = build_model(files, key, dialects=dialects)
        check_forms(model)
        findings = [compat_finding(item) for item in model.compat]
    except InvalidModel as err:
        findings = [Finding("error", p.get("message") or str(err), p.get("element_id"), p.get("file"),
                            p.get("line"), "engine") for p in err.problems]
    try:
        found = lint(files)
    except InvalidModel:
        return findings
    # A static timer value the engine refuses is also a lint finding with the same message: report it once.
    ours = {(f.element_id, f.message) for f in found}
    return [f for f in findings if (f.element_id, f.message) not in ours] + found


def compat_finding(item) -> Finding:
    """A dialect's report line as a finding: an ignored extension that changes behaviour is an error (the deploy
    is refused unless allowed), any other ignored one a warning, a run or mapped one information."""
    severity = "error" if item.blocking else "warning" if item.handling == "ignored" else "info"
    return Finding(severity, f"{item.extension}: {item.handling}" + (f" ({item.reason})" if item.reason else ""),
                   item.element_id, item.file, item.line, "compat")


# -- user tasks -------------------------------------------------------------------------------------------

def _properties(node) -> dict[str, str]:
    props = {}
    for prop in node.iterfind(f"{_q('extensionElements')}/{_q('properties', SPIFF_NS)}/{_q('property', SPIFF_NS)}"):
        if prop.get("name"):
            props[prop.get("name")] = prop.get("value") or ""
    return props


def _laned(doc: _Doc) -> set[str]:
    return {(ref.text or "").strip() for ref in doc.root.iter(_q("flowNodeRef"))}


def user_task_problems(doc: _Doc) -> list[Finding]:
    laned = _laned(doc)
    found = []
    for task in doc.root.iter(_q("userTask")):
        label = task.get("name") or task.get("id")
        if task.get("id") not in laned:
            found.append(doc.finding("warning", "user-task-lane", task,
                                     f"user task {label!r} is in no lane, so every user is offered it"))
        camunda_fields = task.find(f".//{_q('formField', CAMUNDA_NS)}")
        if not _properties(task).get(FORM_PROPERTY) and camunda_fields is None:
            found.append(doc.finding("warning", "user-task-form", task,
                                     f"user task {label!r} names no form ({FORM_PROPERTY}), so staff get a "
                                     "free-form data box"))
    return found


# -- timers -----------------------------------------------------------------------------------------------

def timer_problems(doc: _Doc) -> list[Finding]:
    found = []
    for definition in doc.root.iter(_q("timerEventDefinition")):
        event = definition.getparent()
        parts = [(kind, definition.find(_q(kind))) for kind in ("timeDuration", "timeDate", "timeCycle")]
        parts = [(kind, node) for kind, node in parts if node is not None]
        text = (parts[0][1].text or "").strip() if parts else ""
        if not text:
            found.append(doc.finding("error", "timer", event, "timer has no duration, date or cycle expression"))
            continue
        problem = timer_expression_problem(parts[0][0], text)
        if problem:
            found.append(doc.finding("error", "timer", event, problem))
    return found


def timer_expression_problem(kind: str, expression: str) -> str | None:
    """Why a timer expression (an ISO 8601 value, bare or quoted, or a Python expression) is wrong, or None."""
    problem = timer_values.expression_problem(kind, expression)
    if problem or timer_values.literal_value(expression) is not None:
        return problem
    try:
        ast.literal_eval(expression)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        try:
            compile_expression(expression, "eval")
        except SandboxViolation as err:
            return f"timer expression does not compile: {err}"
    return None  # a literal checked above, or computed from process data when the timer starts


# -- gateways and conditions --------------------------------------------------------------------------------

def gateway_problems(doc: _Doc) -> list[Finding]:
    found = []
    for kind in ("exclusiveGateway", "inclusiveGateway"):
        for gateway in doc.root.iter(_q(kind)):
            outgoing = [f for f in doc.flows if f.get("sourceRef") == gateway.get("id")]
            if len(outgoing) < 2:
                continue
            label = gateway.get("name") or gateway.get("id")
            default = gateway.get("default")
            for flow in outgoing:
                if flow.get("id") != default and flow.find(_q("conditionExpression")) is None:
                    found.append(doc.finding("error", "gateway", flow,
                                             f"flow {flow.get('name') or flow.get('id')!r} leaves gateway "
                                             f"{label!r} with no condition and is not its default flow"))
            if not default:
                found.append(doc.finding("warning", "gateway", gateway,
                                         f"gateway {label!r} has no default flow: an instance for which no "
                                         "condition holds stops with an error"))
    return found


def condition_problems(doc: _Doc, set_names: set[str]) -> list[Finding]:
    found = []
    for flow in doc.flows:
        node = flow.find(_q("conditionExpression"))
        if node is None:
            continue
        text = (node.text or "").strip()
        if not text:
            found.append(doc.finding("error", "condition", flow, "the condition is empty"))
            continue
        try:
            compile_expression(text, "eval")
            tree = ast.parse(text, mode="eval")
        except (SandboxViolation, SyntaxError) as err:
            found.append(doc.finding("error", "condition", flow, f"condition {text!r} does not compile: {err}"))
            continue
        for name in sorted(referenced_names(tree) - set_names):
            found.append(doc.finding("warning", "unset-field", flow,
                                     f"condition uses {name!r}, which no form, script or rule of this process "
                                     "sets"))
    return found


def referenced_names(tree: ast.AST) -> set[str]:
    """Names an expression reads from the process data (not functions it calls, not its own loop names)."""
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return read - called - bound - PROVIDED - set(dir(builtins))


def script_problems(doc: _Doc) -> list[Finding]:
    found = []
    for node, text in _scripts(doc):
        try:
            compile_expression(text, "exec")
        except SandboxViolation as err:
            found.append(doc.finding("error", "script", node, f"script does not compile: {err}"))
    return found


def _scripts(doc: _Doc) -> Iterable[tuple]:
    """(element, script text) for every script task body and spiff pre/post script."""
    for task in doc.root.iter(_q("scriptTask")):
        script = task.find(_q("script"))
        if script is not None and (script.text or "").strip():
            yield task, script.text
    for kind in ("preScript", "postScript"):
        for script in doc.root.iter(_q(kind, SPIFF_NS)):
            owner = script.getparent().getparent()
            if (script.text or "").strip() and owner is not None:
                yield owner, script.text


# -- data that forms, scripts and rules set ---------------------------------------------------------------

def names_set(files: dict[str, str], docs: list[_Doc]) -> set[str]:
    """Top-level data names some form, script, rule or message of the bundle sets."""
    names: set[str] = set()
    for doc in docs:
        for prop in doc.root.iter(_q("property", SPIFF_NS)):
            if prop.get("name") == FORM_PROPERTY:
                names |= _form_fields(files.get(prop.get("value") or ""))
        for field in doc.root.iter(_q("formField", CAMUNDA_NS)):
            names.add(field.get("id") or "")
        for _node, text in _scripts(doc):
            names |= _assigned(text)
        for tag in ("messageVariable", "variable"):
            names |= {(n.text or "").strip() for n in doc.root.iter(_q(tag, SPIFF_NS))}
        names |= {n.get("id") or "" for n in doc.root.iter(_q("dataObject"))}
        names |= {n.get("name") or "" for n in doc.root.iter(_q("dataObjectReference")) if n.get("name")}
    for name, text in files.items():
        if name.endswith(".dmn"):
            root = parse_xml(text, name)
            names |= {n.get("name") for n in root.iter() if isinstance(n.tag, str) and _local(n) == "output"
                      and n.get("name")}
    return {n for n in names if n}


def _form_fields(text: str | None) -> set[str]:
    try:
        schema = json.loads(text) if text else {}
    except json.JSONDecodeError:
        return set()
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return set(properties) if isinstance(properties, dict) else set()


def _assigned(script: str) -> set[str]:
    try:
        tree = ast.parse(script)
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


# -- reachability -------------------------------------------------------------------------------------------

def unreachable(doc: _Doc) -> list[Finding]:
    """Flow nodes no path from a start event (or a boundary, event subprocess or link) leads to."""
    successors: dict[str, set[str]] = {}
    for flow in doc.flows:
        successors.setdefault(flow.get("sourceRef"), set()).add(flow.get("targetRef"))
    for node in doc.nodes:
        kind = _local(node)
        if kind == "boundaryEvent" and node.get("attachedToRef"):
            successors.setdefault(node.get("attachedToRef"), set()).add(node.get("id"))
        if kind in SCOPES:
            for child in node:
                if _local(child) == "startEvent" or (_local(child) in SCOPES
                                                     and child.get("triggeredByEvent") == "true"):
                    successors.setdefault(node.get("id"), set()).add(child.get("id"))
    links = _link_edges(doc)
    for source, targets in links.items():
        successors.setdefault(source, set()).update(targets)
    roots = [n.get("id") for n in doc.nodes if _local(n) == "startEvent" and _local(n.getparent()) == "process"]
    roots += [n.get("id") for n in doc.nodes if _local(n) in SCOPES and n.get("triggeredByEvent") == "true"]
    reached, todo = set(), list(roots)
    while todo:
        current = todo.pop()
        if current in reached:
            continue
        reached.add(current)
        todo.extend(successors.get(current, ()))
    return [doc.finding("warning", "unreachable", node,
                        f"{node.get('name') or node.get('id')!r} cannot be reached from any start event")
            for node in doc.nodes if node.get("id") not in reached]


def _link_edges(doc: _Doc) -> dict[str, set[str]]:
    """Throwing link events lead to the catching link events of the same name."""
    catches: dict[str, set[str]] = {}
    throws: list[tuple[str, str]] = []
    for link in doc.root.iter(_q("linkEventDefinition")):
        event = link.getparent()
        name = link.get("name") or event.get("name") or ""
        if _local(event) == "intermediateCatchEvent":
            catches.setdefault(name, set()).add(event.get("id"))
        else:
            throws.append((event.get("id"), name))
    return {source: catches.get(name, set()) for source, name in throws}
