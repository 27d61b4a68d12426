"""Checks and fixes a bundle gets while its specs are built: flows, the process to start, keys, timer values.

Each names the element (and its line) it refuses, where SpiffWorkflow's own message would be misleading or
missing; bundle.py calls them.
"""

from __future__ import annotations

import re

from lxml import etree
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask

from engine.core import timer_values
from engine.errors import InvalidModel

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def valid_key(text: str) -> str:
    """A process key made from a file name or a process id: `Process_1` -> `process_1`, `1-order` -> `p_1-order`."""
    key = re.sub(r"_+", "_", re.sub(r"[^a-z0-9_-]", "_", text.strip().lower())).strip("_") or "process"
    return (key if key[0].isalpha() else f"p_{key}")[:120]


def main_process(parser, key: str | None) -> str:
    """The process a bundle starts: the one `key` names (its id, or the key made from its id), else the only
    executable process no other process calls."""
    executable = parser.get_process_ids()
    if not executable:
        raise InvalidModel("no executable process (isExecutable=\"true\") in the bundle")
    named = [pid for pid in executable if key in (pid, valid_key(pid))]
    if key and named:
        return named[0]
    top = top_processes(parser)
    if len(top) == 1:
        return top[0]
    if not top:
        raise InvalidModel(f"every executable process is called by another ({', '.join(sorted(executable))}); "
                           "deploy with --key naming the one to start")
    choices = ", ".join(f"--key {valid_key(pid)} ({pid})" for pid in sorted(top))
    raise InvalidModel(f"the bundle has several top-level processes; deploy each under its own key: {choices}")


def top_processes(parser) -> list[str]:
    """Executable processes that no other process of the bundle calls (one calling itself still counts)."""
    executable = parser.get_process_ids()
    called = set()
    for pid in executable:
        for task_spec in parser.get_spec(pid).task_specs.values():
            if isinstance(task_spec, SubWorkflowTask) and task_spec.spec != pid:
                called.add(task_spec.spec)
    return [pid for pid in executable if pid not in called]


def top_process_ids(roots: dict[str, etree._Element]) -> list[str]:
    """Ids of the executable processes of parsed BPMN documents that no other process calls (from the XML)."""
    executable, called = [], set()
    for root in roots.values():
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            if process.get("isExecutable", "true").lower() == "true":
                executable.append(process.get("id"))
            for call in process.iter(f"{{{BPMN_NS}}}callActivity"):
                if call.get("calledElement") != process.get("id"):
                    called.add(call.get("calledElement"))
    return [pid for pid in executable if pid not in called]


def check_flows(name: str, root: etree._Element) -> None:
    """Every sequence flow joins two elements of its own process or subprocess."""
    for process in root.iter(f"{{{BPMN_NS}}}process", f"{{{BPMN_NS}}}subProcess", f"{{{BPMN_NS}}}transaction",
                             f"{{{BPMN_NS}}}adHocSubProcess"):
        ids = {child.get("id") for child in process if isinstance(child.tag, str)}
        for flow in process.iterfind(f"{{{BPMN_NS}}}sequenceFlow"):
            for end in ("sourceRef", "targetRef"):
                ref = flow.get(end)
                if ref not in ids:
                    raise InvalidModel(f"sequence flow {flow.get('id')} has {end}=\"{ref}\", but {process.get('id')} "
                                       "holds no element with that id", file=name, element_id=flow.get("id"),
                                       line=flow.sourceline)


def settle_timers(roots: dict[str, etree._Element], specs: list, validate: bool) -> None:
    """Take bare ISO 8601 timer values (`PT1H`) as text; when `validate`, refuse a static timer value that is not
    ISO 8601, naming the event."""
    for spec in specs:
        for task_spec in spec.task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            for timer in getattr(definition, "event_definitions", None) or [definition]:
                kind = timer_values.kind_of(timer)
                if kind is None:
                    continue
                if validate:
                    problem = timer_values.expression_problem(kind, timer.expression)
                    if problem:
                        raise InvalidModel(problem, element_id=task_spec.bpmn_id,
                                           **_where(roots, task_spec.bpmn_id))
                literal = timer_values.literal_value(timer.expression)
                if literal is not None:
                    timer.expression = repr(literal)


def _where(roots: dict[str, etree._Element], element_id: str) -> dict:
    for name, root in roots.items():
        found = root.xpath("//*[@id=$id]", id=element_id)
        if found:
            return {"file": name, "line": found[0].sourceline}
    return {}
