"""Reading a deployable bundle (BPMN + DMN + form files) and building SpiffWorkflow specs from it.

XML is untrusted input: it is parsed with entity resolution, DTD loading and network access off, and any
document type declaration is refused outright, so neither an external entity (XXE) nor an entity-expansion
bomb can be expressed.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.core import dialects as dialect_registry
from engine.core import model_checks
from engine.errors import InvalidModel

MODEL_SUFFIXES = (".bpmn", ".dmn")
# Camunda, Activiti and Flowable name files `*.bpmn20.xml` / `*.dmn11.xml`; a bundle stores them as .bpmn / .dmn.
ALIASES = {".bpmn20.xml": ".bpmn", ".bpmn2": ".bpmn", ".dmn11.xml": ".dmn", ".dmn13.xml": ".dmn"}
FORM_SUFFIXES = (".json",)
MAX_FILE_BYTES = 5 * 1024 * 1024
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"


# Refused before libxml2 sees the document: no DTD means no external entity and no entity expansion.
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _xml_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, dtd_validation=False,
                           huge_tree=False, remove_comments=False)


def parse_xml(text: str, filename: str) -> etree._Element:
    """Parse untrusted XML, refusing DTDs (and so every entity trick) with `InvalidModel`."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    doctype = _DOCTYPE.search(data)
    if doctype:
        line = data.count(b"\n", 0, doctype.start()) + 1
        raise InvalidModel("document type declarations (DTD, entities) are not allowed", file=filename, line=line)
    if len(data) > MAX_FILE_BYTES:
        raise InvalidModel(f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB", file=filename)
    try:
        root = etree.fromstring(data, _xml_parser())
    except etree.XMLSyntaxError as err:
        raise InvalidModel(f"malformed XML: {err.msg}", file=filename, line=err.lineno) from err
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise InvalidModel("document type declarations (DTD, entities) are not allowed", file=filename, line=1)
    for node in root.iter(etree.Entity):
        raise InvalidModel("entity references are not allowed", file=filename, line=node.sourceline)
    return root


def checksum(files: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(files[name].encode())
        digest.update(b"\0")
    return digest.hexdigest()


def bundle_name(name: str) -> str | None:
    """The name a model or form file has in a bundle (`x.bpmn20.xml` -> `x.bpmn`), or None if it is neither."""
    lower = name.lower()
    for alias, suffix in ALIASES.items():
        if lower.endswith(alias):
            return name[: -len(alias)] + suffix
    return name if lower.endswith(MODEL_SUFFIXES + FORM_SUFFIXES) else None


def stem(path: Path) -> str:
    """A model file's name without its suffix (`order.bpmn20.xml` -> `order`)."""
    name = bundle_name(path.name) or path.name
    return name.rsplit(".", 1)[0] if "." in name else name


def is_bpmn(path: Path) -> bool:
    return (bundle_name(path.name) or "").endswith(".bpmn")


def read_bundle(path: Path, form_dirs: list[Path], extra=()) -> dict[str, str]:
    """Collect a BPMN file or a folder's BPMN/DMN/form files, plus the DMN tables and forms the model names.

    A single file's DMN tables and forms are looked for beside it and in its `forms/` folder; `extra` files
    (e.g. DMN tables shared by a folder of processes) are added when the model needs them."""
    if not path.exists():
        raise InvalidModel("no such file or folder", file=str(path))
    if path.is_dir():
        sources = sorted(p for p in path.iterdir() if p.is_file() and bundle_name(p.name))
        if not any(is_bpmn(p) for p in sources):
            raise InvalidModel("the folder holds no .bpmn file", file=str(path))
    elif is_bpmn(path):
        sources = [path]
        folder = path.parent
        extra = [*extra, *(p for p in folder.iterdir() if p.is_file() and (bundle_name(p.name) or "").endswith(".dmn"))]
    else:
        raise InvalidModel("expected a .bpmn (or .bpmn20.xml) file or a folder holding one", file=str(path))
    files = {bundle_name(p.name): _read_text(p) for p in sources}
    wanted = referenced_decisions(files)
    for p in extra:
        name = bundle_name(p.name) or ""
        if name.endswith(".dmn") and name not in files and _decisions_in(p) & wanted:
            files[name] = _read_text(p)
    folder = path if path.is_dir() else path.parent
    search = [folder, folder / "forms", *form_dirs]
    for form in sorted(referenced_forms(files)):
        if form in files:
            continue
        for folder in search:
            candidate = folder / form
            if candidate.is_file():
                files[form] = _read_text(candidate)
                break
    return files


def _read_text(path: Path) -> str:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InvalidModel(f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB", file=path.name)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise InvalidModel("file is not UTF-8 text", file=path.name) from err


# Properties whose value names a file that ships in the bundle: forms, and the process's SLA policy (docs/sla.md).
REFERENCED_FILE_PROPERTIES = ("formJsonSchemaFilename", "formUiSchemaFilename", "slaPolicyFilename")


def top_process_ids(files: dict[str, str]) -> list[str]:
    """Ids of the bundle's executable processes that no other process calls (each may be deployed on its own)."""
    return model_checks.top_process_ids({name: parse_xml(text, name) for name, text in sorted(files.items())
                                         if name.endswith(".bpmn")})


def referenced_decisions(files: dict[str, str]) -> set[str]:
    """Ids of the DMN decisions that business rule tasks in the bundle's BPMN files call."""
    ids = set()
    for name, text in files.items():
        if not name.endswith(".bpmn"):
            continue
        for task in parse_xml(text, name).iter(f"{{{BPMN_NS}}}businessRuleTask"):
            for node in task.iter(f"{{{SPIFF_NS}}}calledDecisionId"):
                ids.add((node.text or "").strip())
            ids.add(task.get(f"{{{CAMUNDA_NS}}}decisionRef") or "")
    return ids - {""}


def _decisions_in(path: Path) -> set[str]:
    try:
        root = parse_xml(_read_text(path), path.name)
    except InvalidModel:
        return set()
    return {node.get("id") for node in root.iter() if isinstance(node.tag, str)
            and etree.QName(node).localname == "decision" and node.get("id")}


def referenced_forms(files: dict[str, str]) -> set[str]:
    """Names of the files (forms, SLA policy) that the bundle's BPMN files point at."""
    names = set()
    for name, text in files.items():
        if not name.endswith(".bpmn"):
            continue
        root = parse_xml(text, name)
        for prop in root.iter(f"{{{SPIFF_NS}}}property"):
            if prop.get("name") in REFERENCED_FILE_PROPERTIES and prop.get("value"):
                names.add(prop.get("value"))
    return names


@dataclass
class BuiltModel:
    """Specs built from a bundle; cached per (key, version)."""

    process_id: str
    name: str
    spec: object
    subprocess_specs: dict
    files: dict[str, str]
    dialect: str = "spiff"  # the dialect that read it (engine/core/dialects.py)
    compat: list = field(default_factory=list)  # its CompatItems: every foreign extension and its handling
    forms: dict[str, dict] = field(default_factory=dict)
    reference_prefix: str = "REF"
    properties: dict[str, str] = field(default_factory=dict)  # the process element's own properties

    @cached_property
    def has_timers(self) -> bool:
        """Whether any task of the model waits on a timer (models without timers skip timer bookkeeping)."""
        for spec_group in (self.spec, *self.subprocess_specs.values()):
            for task_spec in (spec_group.task_specs.values() if spec_group is not None else ()):
                definition = getattr(task_spec, "event_definition", None)
                if definition is not None and "Timer" in type(definition).__name__:
                    return True
        return False


_BUILT: OrderedDict[tuple[str, str | None, bool], BuiltModel] = OrderedDict()
_BUILT_LOCK = threading.Lock()
_BUILT_SIZE = 64


def build_model(files: dict[str, str], key: str | None = None, validate: bool = True,
                dialects: dialect_registry.Dialects | None = None, dialect: str | None = None) -> BuiltModel:
    """Parse and validate every file of a bundle; raise `InvalidModel` naming file, element and line.

    `dialect` names how to read it (else detected among `dialects`, by default SpiffWorkflow's own).
    Built models are shared by content within the process (specs are read-only once built), so the same
    bundle is parsed once however many engines or deploys ask for it."""
    registry = dialects or dialect_registry.DEFAULT
    cache_key = (checksum(files), key, validate, dialect, tuple(registry.names))
    with _BUILT_LOCK:
        model = _BUILT.get(cache_key)
        if model is not None:
            _BUILT.move_to_end(cache_key)
            return model
    reading = _Reading(registry, dialect)
    model = _build_model(files, key, validate, reading)
    model.dialect, model.compat = reading.chosen.name, reading.prepared.compat
    with _BUILT_LOCK:
        _BUILT[cache_key] = model
        while len(_BUILT) > _BUILT_SIZE:
            _BUILT.popitem(last=False)
    return model


@dataclass
class _Reading:
    """The dialect asked for, and once the XML is read, the one chosen and what it prepared."""

    registry: dialect_registry.Dialects
    asked: str | None
    chosen: dialect_registry.Dialect = dialect_registry.SPIFF
    prepared: dialect_registry.Prepared = field(default_factory=dialect_registry.Prepared)


def _build_model(files: dict[str, str], key: str | None, validate: bool, reading: _Reading) -> BuiltModel:
    roots: dict[str, etree._Element] = {}
    for name in sorted(files):
        if name.endswith(MODEL_SUFFIXES):
            roots[name] = parse_xml(files[name], name)
    if not any(n.endswith(".bpmn") for n in roots):
        raise InvalidModel("the bundle holds no .bpmn file")
    for name, root in roots.items():
        model_checks.check_flows(name, root)
    reading.chosen = reading.registry.choose(roots, reading.asked)
    reading.prepared = reading.chosen.prepare(roots)
    parser = reading.chosen.parser(validate)
    current = None
    try:
        for name, root in roots.items():
            current = name
            if name.endswith(".dmn"):
                parser.add_dmn_xml(root, filename=name)
            else:
                parser.add_bpmn_xml(root, filename=name)
        current = None
        process_id = _main_process(parser, roots, key)
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as err:
        raise _invalid_model(err, roots, current) from err
    except SpiffWorkflowException as err:
        raise _invalid_model(err, roots, current) from err
    except InvalidModel:
        raise
    except Exception as err:  # noqa: BLE001 - the parser's own bugs on unusual files: still one clear error
        raise InvalidModel(f"the model cannot be read: {err.__class__.__name__}: {err}", file=current) from err
    model_checks.settle_timers(roots, [spec, *subprocess_specs.values()], validate)
    forms = {}
    for name, text in files.items():
        if name.endswith(FORM_SUFFIXES):
            try:
                forms[name] = json.loads(text)
            except json.JSONDecodeError as err:
                raise InvalidModel(f"invalid JSON: {err.msg}", file=name, line=err.lineno) from err
    forms.update(reading.prepared.forms)
    properties = _process_properties(roots, process_id)
    return BuiltModel(process_id=process_id, name=spec.description or process_id, spec=spec,
                      subprocess_specs=subprocess_specs, files=files, forms=forms,
                      reference_prefix=_reference_prefix(properties, process_id, key), properties=properties)


def _process_properties(roots: dict[str, etree._Element], process_id: str) -> dict[str, str]:
    """The spiffworkflow:properties of the process element itself (referencePrefix, slaPolicyFilename, ...)."""
    found = {}
    for root in roots.values():
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            if process.get("id") != process_id:
                continue
            for prop in process.iterfind(f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}properties/"
                                         f"{{{SPIFF_NS}}}property"):
                if prop.get("name") and prop.get("value"):
                    found[prop.get("name")] = prop.get("value")
    return found


def _reference_prefix(properties: dict[str, str], process_id: str, key: str | None) -> str:
    """A process may set `referencePrefix` in its spiffworkflow:properties; else derived from its key."""
    if properties.get("referencePrefix"):
        return re.sub(r"[^A-Z0-9]", "", properties["referencePrefix"].upper())[:10] or "REF"
    letters = re.sub(r"[^A-Za-z0-9]", "", key or process_id).upper()
    return letters[:3] or "REF"


def _main_process(parser: SpiffBpmnParser, roots: dict[str, etree._Element], key: str | None) -> str:
    return model_checks.main_process(parser, key)


def _invalid_model(err: Exception, roots: dict[str, etree._Element], current: str | None) -> InvalidModel:
    element_id = getattr(err, "id", None) or getattr(err, "task_spec_id", None) or None
    file = getattr(err, "file_name", None) or current
    line = getattr(err, "line_number", None) or None
    if element_id and not line:
        for name, root in roots.items():
            found = root.xpath("//*[@id=$id]", id=element_id)
            if found:
                file, line = file or name, found[0].sourceline
                break
    message = str(err.args[0]) if err.args else str(err)
    return InvalidModel(message, file=file, element_id=element_id, line=int(line) if line else None)
