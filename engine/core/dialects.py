"""BPMN dialects: which parser reads a bundle, and what a dialect reports about the extensions it found.

A dialect is a feature's way to read models drawn for another engine (engine/camunda/ registers Camunda 7) without
the kernel importing that feature. The kernel knows only this protocol and its own dialect, `spiff`
(SpiffWorkflow's native extensions). A bundle's dialect is detected from its XML unless the deployer names one;
the name chosen is stored with the version so the stored files are always rebuilt the same way.

Every extension a dialect finds is reported as a `CompatItem`: `run` (executed as the other engine would),
`mapped` (translated into an equivalent of ours) or `ignored` (with the reason). An ignored extension that changes
behaviour refuses the deploy unless the deployer allows it (`definitions.deploy_files`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from lxml import etree
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from engine.errors import InvalidModel

HANDLINGS = ("run", "mapped", "ignored")


@dataclass(frozen=True)
class CompatItem:
    """One extension found in a model and how this engine handles it."""

    extension: str
    element_id: str | None
    handling: str
    reason: str = ""
    changes_behaviour: bool = False
    file: str | None = None
    line: int | None = None

    def __post_init__(self) -> None:
        if self.handling not in HANDLINGS:
            raise ValueError(f"handling must be one of {HANDLINGS}, not {self.handling!r}")

    @property
    def blocking(self) -> bool:
        return self.handling == "ignored" and self.changes_behaviour

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "blocking": self.blocking}


@dataclass
class Prepared:
    """What a dialect makes of a bundle's XML before it is parsed: the report and any forms it generated."""

    compat: list[CompatItem] = field(default_factory=list)
    forms: dict[str, dict] = field(default_factory=dict)


class Dialect(Protocol):
    """A way of reading BPMN: detection, XML preparation (may rewrite the parsed trees in place), the parser."""

    name: str

    def detects(self, roots: dict[str, etree._Element]) -> bool: ...

    def prepare(self, roots: dict[str, etree._Element]) -> Prepared: ...

    def parser(self, validate: bool) -> Any: ...


class SpiffDialect:
    """SpiffWorkflow's own extensions: the default for every bundle no other dialect claims."""

    name = "spiff"

    def detects(self, roots: dict[str, etree._Element]) -> bool:
        return True

    def prepare(self, roots: dict[str, etree._Element]) -> Prepared:
        return Prepared()

    def parser(self, validate: bool) -> SpiffBpmnParser:
        return SpiffBpmnParser(validator=VALIDATOR if validate else None)


SPIFF = SpiffDialect()


class Dialects:
    """The dialects one engine knows; `spiff` always, others registered by features through the facade."""

    def __init__(self) -> None:
        self._items: dict[str, Dialect] = {SPIFF.name: SPIFF}

    def register(self, dialect: Dialect) -> None:
        self._items[dialect.name] = dialect

    @property
    def names(self) -> list[str]:
        return sorted(self._items)

    def get(self, name: str) -> Dialect:
        try:
            return self._items[name]
        except KeyError:
            raise InvalidModel(f"unknown dialect {name!r}; this engine reads: {', '.join(self.names)}") from None

    def choose(self, roots: dict[str, etree._Element], name: str | None = None) -> Dialect:
        """The named dialect, else the first registered one that recognises the XML, else `spiff`."""
        if name:
            return self.get(name)
        for dialect in self._items.values():
            if dialect is not SPIFF and dialect.detects(roots):
                return dialect
        return SPIFF


DEFAULT = Dialects()  # spiff only: for callers without an engine (benchmarks, the studio's first parse)


def dialects_of(services: Any) -> Dialects:
    """The dialects of a `Services` object (made on first use, so `Services` needs no field for them)."""
    dialects = getattr(services, "dialects", None)
    if dialects is None:
        dialects = Dialects()
        services.dialects = dialects
    return dialects


def refuse_blocking(compat: list[CompatItem]) -> None:
    """Raise `InvalidModel` naming every ignored extension that would change what the model does."""
    blocking = [item for item in compat if item.blocking]
    if not blocking:
        return
    first = blocking[0]
    listed = "; ".join(f"{i.extension} on {i.element_id or 'the model'}: {i.reason}" for i in blocking)
    raise InvalidModel(f"{len(blocking)} extension(s) would be ignored and change what the model does ({listed}); "
                       "deploy with --allow-ignored to accept that", file=first.file, element_id=first.element_id,
                       line=first.line)
