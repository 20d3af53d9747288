"""The curated layer (bot/data/holdings.yaml): parsed with line numbers, and checked against the corpus."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from bot.holding.models import CONCERNS, CONDITION_VALUES, LAYER_FILE, SIDES, Holding, HoldingError
from bot.types import Document, Section


@dataclass(frozen=True)
class Citation:
    """Where a layer entry's sentence lives in the corpus."""

    doc: str
    section: str
    status: str
    quote: str


@dataclass(frozen=True)
class Rule:
    """When a layer entry or event reaches a holding."""

    when: tuple[dict[str, frozenset[str]], ...]
    unless: tuple[dict[str, frozenset[str]], ...]
    start: dt.date | None
    before: dt.date | None

    def reaches(self, holding: Holding, as_of: dt.date) -> bool:
        if (self.start and as_of < self.start) or (self.before and as_of >= self.before):
            return False
        return _any(self.when, holding, default=True) and not _any(self.unless, holding, default=False)


@dataclass(frozen=True)
class Entry:
    """One curated cell sentence (or a structural 'nothing applies' without one)."""

    concern: str
    side: str
    applies: bool
    reason: str
    rule: Rule
    citation: Citation | None
    line: int


@dataclass(frozen=True)
class Event:
    """One curated dated event."""

    date: dt.date
    text: str
    yearly: bool
    rule: Rule
    citation: Citation
    line: int


@dataclass(frozen=True)
class Layer:
    entries: tuple[Entry, ...]
    events: tuple[Event, ...]


def condition_values(holding: Holding, key: str) -> set[str]:
    if key == "citizenship" and holding.citizenship == "both":
        return {"UK", "US"}
    if key == "platform_regulated":
        return {"null" if holding.platform_regulated is None else str(holding.platform_regulated).lower()}
    return {str(getattr(holding, key))}


def _any(conditions: tuple[dict[str, frozenset[str]], ...], holding: Holding, default: bool) -> bool:
    if not conditions:
        return default
    return any(all(condition_values(holding, key) & allowed for key, allowed in c.items()) for c in conditions)


def _yaml_value(value: Any) -> str:
    return "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def _conditions(raw: Any, where: str) -> tuple[dict[str, frozenset[str]], ...]:
    if raw is None:
        return ()
    maps = raw if isinstance(raw, list) else [raw]
    parsed = []
    for item in maps:
        if not isinstance(item, dict):
            raise HoldingError(f"{where}: conditions must be a map like {{residence: [UK]}} or a list of maps")
        condition: dict[str, frozenset[str]] = {}
        for key, allowed in item.items():
            if key == "__line__":
                continue
            if key not in CONDITION_VALUES:
                raise HoldingError(f"{where}: unknown condition '{key}' (use {', '.join(CONDITION_VALUES)})")
            values = frozenset(_yaml_value(v) for v in (allowed if isinstance(allowed, list) else [allowed]))
            unknown = values - set(CONDITION_VALUES[key])
            if unknown:
                raise HoldingError(f"{where}: unknown {key} value(s) {sorted(unknown)}")
            condition[key] = values
        parsed.append(condition)
    return tuple(parsed)


def _rule(item: dict[str, Any], where: str) -> Rule:
    return Rule(
        when=_conditions(item.get("when"), where),
        unless=_conditions(item.get("unless"), where),
        start=item.get("from"),
        before=item.get("before"),
    )


def _citation(item: dict[str, Any], where: str, required: bool) -> Citation | None:
    keys = ("doc", "section", "status", "quote")
    if not any(item.get(k) for k in keys) and not required:
        return None
    missing = [k for k in keys if not item.get(k)]
    if missing:
        raise HoldingError(f"{where}: missing {', '.join(missing)} (an entry cites doc, section, status and quote)")
    return Citation(*(str(item[k]).strip() for k in keys))


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that records each mapping's line, so problems name it."""


def _mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = {str(key): value for key, value in loader.construct_mapping(node, deep=True).items()}
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def parse_layer(text: str, name: str = LAYER_FILE) -> Layer:
    """Parse and check the shape of a holdings layer; raise HoldingError naming the line."""
    data = yaml.load(text, Loader=_LineLoader) or {}  # noqa: S506 - a SafeLoader subclass
    entries: list[Entry] = []
    for item in data.get("entries") or []:
        where = f"{name}:{item.get('__line__', 0)}"
        concern, side = item.get("concern"), item.get("side")
        if concern not in CONCERNS or side not in SIDES:
            raise HoldingError(f"{where}: concern must be one of {', '.join(CONCERNS)} and side one of UK, US, gap")
        if not isinstance(item.get("applies"), bool) or not item.get("reason"):
            raise HoldingError(f"{where}: every entry needs 'applies: true|false' and a 'reason'")
        citation = _citation(item, where, required=bool(item["applies"]))
        entries.append(
            Entry(
                concern,
                side,
                item["applies"],
                str(item["reason"]).strip(),
                _rule(item, where),
                citation,
                item["__line__"],
            )
        )
    events: list[Event] = []
    for item in data.get("events") or []:
        where = f"{name}:{item.get('__line__', 0)}"
        if not isinstance(item.get("date"), dt.date) or not item.get("text"):
            raise HoldingError(f"{where}: every event needs 'date: YYYY-MM-DD' and 'text'")
        citation = _citation(item, where, required=True)
        assert citation is not None
        yearly = item.get("recurring") == "yearly"
        events.append(Event(item["date"], str(item["text"]), yearly, _rule(item, where), citation, item["__line__"]))
    return Layer(tuple(entries), tuple(events))


@cache
def bundled_layer() -> Layer:
    """The layer shipped in the package (bot/data/holdings.yaml)."""
    return parse_layer(resources.files("bot").joinpath("data", LAYER_FILE).read_text(encoding="utf-8"))


def load_layer(path: Path | None = None) -> Layer:
    """The layer at path, or the bundled one."""
    return parse_layer(path.read_text(encoding="utf-8"), str(path)) if path else bundled_layer()


@functools.lru_cache(maxsize=4096)
def normal_space(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def find_section(document: Document, anchor: str) -> Section | None:
    return next((s for s in document.sections if s.anchor == anchor), None)


def check_citation(citation: Citation, documents: Mapping[str, Document]) -> str | None:
    """What is wrong with a layer citation against the corpus, or None."""
    document = documents.get(citation.doc)
    if document is None:
        return f"document '{citation.doc}' is not in the corpus"
    section = find_section(document, citation.section)
    if section is None:
        anchors = ", ".join(s.anchor for s in document.sections)
        return f"'{citation.doc}' has no section '{citation.section}' (sections: {anchors})"
    if normal_space(citation.quote) not in normal_space(section.text):
        return f"the quoted sentence is not in {citation.doc} section '{citation.section}': {citation.quote[:80]}..."
    actual = section.status or document.status
    if citation.status != actual:
        return f"status '{citation.status}' disagrees with {citation.doc} section '{citation.section}' ('{actual}')"
    if actual in ("superseded", "withdrawn"):
        return f"{citation.doc} section '{citation.section}' is {actual}; superseded text is never quoted"
    return None


def check_layer(layer: Layer, documents: Mapping[str, Document]) -> list[str]:
    """Every problem of the layer against the corpus: missing documents, sections or sentences, wrong statuses,
    event dates that their sentence does not state."""
    problems = []
    for entry in layer.entries:
        if entry.citation is None:
            continue
        problem = check_citation(entry.citation, documents)
        if problem:
            problems.append(f"{LAYER_FILE}:{entry.line}: {problem}")
    for event in layer.events:
        problem = check_citation(event.citation, documents)
        stated = f"{event.date.day} {event.date:%B}" + ("" if event.yearly else f" {event.date.year}")
        if problem is None and stated not in event.citation.quote:
            problem = f"the quoted sentence does not state the event's date ({stated})"
        if problem:
            problems.append(f"{LAYER_FILE}:{event.line}: {problem}")
    return problems
