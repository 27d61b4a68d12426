"""What changed between two versions of a process: BPMN elements added, removed or changed, and other files.

Elements are matched by id across the bundle's BPMN files. Layout (the diagram interchange part) is ignored:
moving a shape is not a change of the process.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from lxml import etree

from engine.core.bundle import BPMN_NS, SPIFF_NS, parse_xml
from engine.studio.lint import FLOW_NODES

TRACKED = FLOW_NODES | {
    "sequenceFlow", "lane", "participant", "messageFlow", "process", "dataObjectReference", "dataStoreReference",
    "textAnnotation", "association", "message", "signal", "error", "escalation", "group",
}
# Children that restate what other elements say (flow ends, lane membership) or hold tracked elements.
SKIPPED_CHILDREN = {"incoming", "outgoing", "flowNodeRef", "laneSet", "childLaneSet"}
ASPECT_OF_CHILD = {
    "timerEventDefinition": "timer", "conditionExpression": "condition", "script": "script",
    "messageEventDefinition": "message", "signalEventDefinition": "signal", "errorEventDefinition": "error",
    "escalationEventDefinition": "escalation", "documentation": "documentation",
    "multiInstanceLoopCharacteristics": "loop", "standardLoopCharacteristics": "loop",
}
ASPECT_OF_EXTENSION = {"calledDecisionId": "decision", "preScript": "pre-script", "postScript": "post-script"}
FORM_PROPERTIES = {"formJsonSchemaFilename", "formUiSchemaFilename"}
# Attributes whose absence means this value (BPMN 2.0 defaults): writing one out is not a change.
DEFAULTS = {"cancelActivity": "true", "isInterrupting": "true", "parallelMultiple": "false",
            "isForCompensation": "false", "startQuantity": "1", "completionQuantity": "1", "instantiate": "false",
            "triggeredByEvent": "false", "isClosed": "false", "gatewayDirection": "Unspecified",
            "isSequential": "false", "isImmediate": "true", "processType": "None"}
SHOWN_CHARACTERS = 200  # of an old or new value in the list of changes


@dataclass(frozen=True)
class ElementChange:
    """One element of the diagram and, when it changed, which aspects of it did."""

    element_id: str
    kind: str
    name: str | None
    file: str
    aspects: list[str] = field(default_factory=list)
    values: list[tuple[str, str, str]] = field(default_factory=list)  # (aspect, old, new) as the owner reads them


@dataclass(frozen=True)
class VersionDiff:
    """Elements and files added, removed and changed from `old_version` to `new_version`."""

    key: str
    old_version: int
    new_version: int
    added: list[ElementChange]
    removed: list[ElementChange]
    changed: list[ElementChange]
    files_added: list[str]
    files_removed: list[str]
    files_changed: list[str]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.files_added or self.files_removed
                    or self.files_changed)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Element:
    kind: str
    name: str | None
    file: str
    parts: dict[str, object]


def diff_versions(key: str, old_version: int, old_files: dict[str, str], new_version: int,
                  new_files: dict[str, str]) -> VersionDiff:
    """Compare two bundles (file name -> text) of one process."""
    old, new = elements(old_files), elements(new_files)
    added = [_change(i, new[i]) for i in new if i not in old]
    removed = [_change(i, old[i]) for i in old if i not in new]
    changed = []
    for element_id in (i for i in new if i in old):
        aspects = _aspects(old[element_id], new[element_id])
        if aspects:
            changed.append(_change(element_id, new[element_id], aspects, _values(old[element_id], new[element_id])))
    names = set(old_files) | set(new_files)
    others = sorted(n for n in names if not n.endswith(".bpmn"))
    return VersionDiff(
        key, old_version, new_version, _sorted(added), _sorted(removed), _sorted(changed),
        files_added=sorted(n for n in names if n not in old_files),
        files_removed=sorted(n for n in names if n not in new_files),
        files_changed=[n for n in others if n in old_files and n in new_files and old_files[n] != new_files[n]])


def _sorted(changes: list[ElementChange]) -> list[ElementChange]:
    return sorted(changes, key=lambda c: (c.file, c.kind, c.element_id))


def _change(element_id: str, element: _Element, aspects: list[str] | None = None,
            values: list[tuple[str, str, str]] | None = None) -> ElementChange:
    return ElementChange(element_id, element.kind, element.name, element.file, aspects or [], values or [])


def _values(old: _Element, new: _Element) -> list[tuple[str, str, str]]:
    """(aspect, old value, new value) of each changed part, as text ('—' when there was none)."""
    if old.kind != new.kind:
        return [("type", old.kind, new.kind)]
    keys = sorted(k for k in set(old.parts) | set(new.parts) if old.parts.get(k) != new.parts.get(k))
    return [(_label(k), _readable(old.parts.get(k)), _readable(new.parts.get(k))) for k in keys]


def _readable(value) -> str:
    """A part's value as text: an attribute's value, a property's value, the text inside a child element."""
    if value is None:
        return "—"
    if isinstance(value, str):
        text = value
    else:
        text = "; ".join(_text_of(item) for item in value)
    text = " ".join(text.split()) or "(empty)"
    return text if len(text) <= SHOWN_CHARACTERS else text[:SHOWN_CHARACTERS - 1] + "…"


def _text_of(item) -> str:
    if len(item) == 2:  # a property: (name, value)
        return str(item[1] or "")
    _tag, attrs, text, children = item
    inner = " ".join(t for t in (text, *(_text_of(c) for c in children)) if t)
    return inner or ", ".join(f"{_attribute_label(k)}={v}" for k, v in attrs)

def _aspects(old: _Element, new: _Element) -> list[str]:
    if old.kind != new.kind:
        return ["type"]
    keys = set(old.parts) | set(new.parts)
    return sorted({_label(k) for k in keys if old.parts.get(k) != new.parts.get(k)})


def _label(part: str) -> str:
    return part.split(":", 1)[1] if ":" in part else part


def elements(files: dict[str, str]) -> dict[str, _Element]:
    """Every tracked element of the bundle's BPMN files, by id, with its comparable parts."""
    found: dict[str, _Element] = {}
    for name in sorted(files):
        if not name.endswith(".bpmn"):
            continue
        root = parse_xml(files[name], name)
        lanes = _lane_of(root)
        for node in root.iter():
            if not isinstance(node.tag, str) or not node.tag.startswith(f"{{{BPMN_NS}}}"):
                continue
            kind = etree.QName(node).localname
            if kind not in TRACKED or not node.get("id"):
                continue
            parts = _parts(node)
            if node.get("id") in lanes:
                parts["attr:lane"] = lanes[node.get("id")]
            found[node.get("id")] = _Element(kind, node.get("name"), name, parts)
    return found


def _lane_of(root) -> dict[str, str]:
    lanes = {}
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        for ref in lane.iterfind(f"{{{BPMN_NS}}}flowNodeRef"):
            lanes[(ref.text or "").strip()] = lane.get("name") or lane.get("id")
    return lanes


def _parts(node) -> dict[str, object]:
    """The element's attributes and own children, keyed by the aspect a change of them is reported as."""
    parts: dict[str, object] = {f"attr:{_attribute_label(k)}": v for k, v in node.attrib.items()
                                if k != "id" and DEFAULTS.get(_attribute_label(k)) != v}
    for child in node:
        if not isinstance(child.tag, str):
            continue
        kind = etree.QName(child).localname
        if kind in SKIPPED_CHILDREN or (kind in TRACKED and child.tag.startswith(f"{{{BPMN_NS}}}")):
            continue
        if kind == "extensionElements":
            parts.update(_extension_parts(child))
            continue
        key = f"child:{ASPECT_OF_CHILD.get(kind, kind)}"
        parts[key] = (*_as_tuple(parts.get(key)), _canonical(child))
    return parts


def _attribute_label(name: str) -> str:
    return etree.QName(name).localname if name.startswith("{") else name


def _extension_parts(extensions) -> dict[str, object]:
    parts: dict[str, object] = {}
    for child in extensions:
        if not isinstance(child.tag, str):
            continue
        if child.tag == f"{{{SPIFF_NS}}}properties":
            for prop in child:
                name = prop.get("name") if isinstance(prop.tag, str) else None
                if not name:
                    continue
                key = "ext:form" if name in FORM_PROPERTIES else f"ext:property {name}"
                parts[key] = (*_as_tuple(parts.get(key)), (name, prop.get("value")))
            continue
        kind = etree.QName(child).localname
        key = f"ext:{ASPECT_OF_EXTENSION.get(kind, kind)}"
        parts[key] = (*_as_tuple(parts.get(key)), _canonical(child))
    return parts


def _as_tuple(value) -> tuple:
    return value if isinstance(value, tuple) else ()


def _canonical(node) -> tuple:
    """A comparable form of a subtree: tag, attributes (nested ids left out), trimmed text, children."""
    attrs = tuple(sorted((k, v) for k, v in node.attrib.items() if k != "id"))
    children = tuple(_canonical(c) for c in node if isinstance(c.tag, str))
    return node.tag, attrs, (node.text or "").strip(), children
