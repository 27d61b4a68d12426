"""Small hand-written Camunda 7 models for the tests: a process as a chain of elements joined by sequence flows."""

from __future__ import annotations

import re

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://example.org">\n')


def process(process_id: str, *elements: str, extra: str = "", flow_extensions: dict[str, str] | None = None,
            attributes: str = 'isExecutable="true"') -> str:
    """A process running `elements` one after another (each an XML element with an id); `extra` is added as is
    (boundary events and their flows); `flow_extensions` maps "source->target" to a flow's extension elements."""
    ids = [re.search(r'\bid="([^"]+)"', element).group(1) for element in elements]
    flows = []
    for source, target in zip(ids, ids[1:], strict=False):
        inner = (flow_extensions or {}).get(f"{source}->{target}")
        body = f"<bpmn:extensionElements>{inner}</bpmn:extensionElements>" if inner else ""
        flows.append(f'<bpmn:sequenceFlow id="f_{source}_{target}" sourceRef="{source}" targetRef="{target}">'
                     f"{body}</bpmn:sequenceFlow>")
    return (f'<bpmn:process id="{process_id}" {attributes}>\n' + "\n".join(elements) + "\n" + "\n".join(flows)
            + extra + "\n</bpmn:process>\n")


def definitions(*processes: str) -> str:
    return HEAD + "".join(processes) + "</bpmn:definitions>\n"


def element(tag: str, element_id: str, extensions: str = "", attributes: str = "", body: str = "") -> str:
    """`<bpmn:tag id=...>` with its camunda extension elements."""
    inner = f"<bpmn:extensionElements>{extensions}</bpmn:extensionElements>" if extensions else ""
    return f'<bpmn:{tag} id="{element_id}" {attributes}>{inner}{body}</bpmn:{tag}>'


def simple(*elements: str, **options) -> dict[str, str]:
    """A one-file bundle: start -> elements -> end, process id `p`."""
    return {"model.bpmn": definitions(process("p", element("startEvent", "start"), *elements,
                                              element("endEvent", "end"), **options))}
