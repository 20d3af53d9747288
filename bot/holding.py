""" "My holding": the cross-border protection matrix and dated timeline for one investor's holding.

Built from a curated layer (bot/data/holdings.yaml) that names, per concern and side, the corpus sentence that
answers it and the holdings it reaches; never from free retrieval. A cell with no matching entry stays missing.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from bot.analysis import merge_history
from bot.errors import BotError
from bot.prompts import NOTICE
from bot.render import status_text
from bot.types import Document, Section

Residence = Literal["UK", "US", "elsewhere"]
Citizenship = Literal["UK", "US", "both", "other"]
PlatformLocation = Literal["UK", "US", "elsewhere"]
Asset = Literal["crypto", "usd_stablecoin", "gbp_stablecoin", "crypto_etn"]
Custody = Literal["exchange", "self"]
Side = Literal["UK", "US", "gap"]
CellState = Literal["applies", "nothing_applies", "missing"]

CONCERNS: dict[str, str] = {
    "platform_failure": "If the platform fails",
    "issuer_failure": "If the issuer fails (stablecoin or ETN)",
    "complaints": "Complaints and ombudsman",
    "supervision": "Who supervises the platform",
    "tax": "Tax on gains and income",
    "tax_reporting": "Reporting to the tax authority",
    "marketing": "Marketing protections",
    "fraud_reporting": "Where to report fraud",
}
SIDES: tuple[str, ...] = ("UK", "US", "gap")
CONDITION_VALUES: dict[str, tuple[str, ...]] = {
    "residence": ("UK", "US", "elsewhere"),
    "citizenship": ("UK", "US", "other"),
    "platform": ("UK", "US", "elsewhere"),
    "platform_regulated": ("true", "false", "null"),
    "asset": ("crypto", "usd_stablecoin", "gbp_stablecoin", "crypto_etn"),
    "custody": ("exchange", "self"),
}
ASSET_LABELS = {
    "crypto": "bitcoin, ether or another unbacked cryptoasset",
    "usd_stablecoin": "a US-dollar stablecoin",
    "gbp_stablecoin": "a sterling stablecoin",
    "crypto_etn": "a crypto exchange-traded note (ETN)",
}
MAX_QUOTES = 2  # sentences per cell
PAST_MONTHS, COMING_MONTHS = 12, 24  # the timeline's window around as_of
MISSING_REASON = (
    "Not covered yet: the curated layer names no official sentence for this situation, so none is shown "
    "rather than a loosely related one."
)
MISSING_GAP_REASON = "Not covered yet: the curated layer names no cited gap between the two sides here."
LAYER_FILE = "holdings.yaml"


class HoldingError(BotError):
    """The holding layer (bot/data/holdings.yaml) is malformed."""

    code = "holding_layer_invalid"


class Holding(BaseModel):
    """One investor's holding: where they live, their citizenship, the platform, the asset and custody."""

    model_config = ConfigDict(extra="forbid")

    residence: Residence = Field(description="Where the investor lives.")
    citizenship: Citizenship = Field("other", description="The investor's citizenship (both = UK and US).")
    platform: PlatformLocation = Field(description="Where the platform (exchange, broker, wallet provider) is based.")
    platform_regulated: bool | None = Field(
        None,
        description="Whether the platform is registered or authorised (FCA for a UK platform; FinCEN/state/SEC/CFTC "
        "for a US one); null when unknown.",
    )
    asset: Asset = Field(description="What is held.")
    custody: Custody = Field("exchange", description="Held by the platform (exchange) or in the investor's own wallet.")


class HoldingRequest(Holding):
    """A holding and the date to assess it on (the POST /v1/holdings body)."""

    as_of: dt.date | None = Field(None, description="Assess as on this date (default: today).")
    jurisdictions: list[Literal["UK", "US"]] | None = Field(
        None, description="Only these columns (UK, US); default both, with the gap between them."
    )

    def holding(self) -> Holding:
        return Holding(**self.model_dump(exclude={"as_of", "jurisdictions"}))


class HoldingQuote(BaseModel):
    """One quoted corpus sentence with its citation."""

    text: str = Field(description="The sentence, quoted word for word from the corpus.")
    doc_id: str
    title: str
    publisher: str
    jurisdiction: str
    section: str
    locator: str
    anchor: str
    url: str
    status: str = Field(description="The section's status, or the document's: in_force, not_yet_in_force, ...")
    status_label: str = Field(description="The status for a reader, e.g. 'not yet in force, applies from 2027-10-25'.")
    published: dt.date
    effective: dt.date | None = None


class Cell(BaseModel):
    """One concern on one side (UK, US, or the gap between them)."""

    concern: str
    side: Side
    state: CellState = Field(description="applies | nothing_applies | missing (the layer has nothing cited).")
    applies: bool | None = Field(
        description="True: something reaches this holding; false: nothing does; null: missing."
    )
    reason: str = Field(description="How the rules do or do not reach this holding (our words, not a quote).")
    quotes: list[HoldingQuote] = Field(default_factory=list)


class TimelineEvent(BaseModel):
    """A dated event that reaches the holding."""

    date: dt.date
    text: str
    past: bool = Field(description="True when the date is before as_of.")
    origin: Literal["layer", "front_matter"] = Field(
        description="layer: the curated events list; front_matter: a cited document's effective date."
    )
    quote: HoldingQuote


class HoldingReport(BaseModel):
    """The matrix and timeline for one holding on one date."""

    holding: Holding
    as_of: dt.date
    jurisdictions: list[str]
    summary: str = Field(description="The holding in words.")
    matrix: dict[str, dict[str, Cell]] = Field(description="concern -> side (UK, US, gap) -> cell.")
    timeline: list[TimelineEvent]
    notice: str


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


def _values(holding: Holding, key: str) -> set[str]:
    if key == "citizenship" and holding.citizenship == "both":
        return {"UK", "US"}
    if key == "platform_regulated":
        return {"null" if holding.platform_regulated is None else str(holding.platform_regulated).lower()}
    return {str(getattr(holding, key))}


def _any(conditions: tuple[dict[str, frozenset[str]], ...], holding: Holding, default: bool) -> bool:
    if not conditions:
        return default
    return any(all(_values(holding, key) & allowed for key, allowed in c.items()) for c in conditions)


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
def _normal(text: str) -> str:
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
    if _normal(citation.quote) not in _normal(section.text):
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


def _quote(citation: Citation, documents: Mapping[str, Document]) -> HoldingQuote:
    document = documents[citation.doc]
    section = find_section(document, citation.section)
    assert section is not None
    status = section.status or document.status
    return HoldingQuote(
        text=citation.quote,
        doc_id=document.id,
        title=document.title,
        publisher=document.publisher,
        jurisdiction=document.jurisdiction,
        section=section.heading,
        locator=section.locator,
        anchor=section.anchor,
        url=document.url,
        status=status,
        status_label=status_text(status, document.effective),
        published=document.published,
        effective=document.effective,
    )


def citable(
    citation: Citation | None, documents: Mapping[str, Document], as_of: dt.date, statuses: Iterable[str]
) -> bool:
    """The answers' as-of rule: the document was published and still applied on as_of, its status may be retrieved,
    and the section is not superseded or withdrawn."""
    if citation is None:
        return True
    document = documents.get(citation.doc)
    if document is None or not document.in_force_on(as_of) or document.status not in statuses:
        return False
    section = find_section(document, citation.section)
    if section is None or section.status in ("superseded", "withdrawn"):
        return False
    # A served corpus may differ from the one the layer was checked against: never quote a sentence it lacks.
    return _normal(citation.quote) in _normal(section.text)


def _the(side: str) -> str:
    return f"the {side}"


def linked(holding: Holding, side: str, concern: str) -> bool:
    """Whether anything ties the holding to side: residence, citizenship, the platform, or (for the issuer) the
    coin's currency."""
    if holding.residence == side or side in _values(holding, "citizenship") or holding.platform == side:
        return True
    currency_side = {"usd_stablecoin": "US", "gbp_stablecoin": "UK"}.get(holding.asset)
    return concern == "issuer_failure" and currency_side == side


def build_cell(
    concern: str,
    side: str,
    holding: Holding,
    as_of: dt.date,
    layer: Layer,
    documents: Mapping[str, Document],
    statuses: Iterable[str],
) -> Cell:
    """The cell for one concern and side: up to two matching entries that agree, or missing."""
    if side != "gap" and not linked(holding, side, concern):
        return Cell(
            concern=concern,
            side=side,  # type: ignore[arg-type]
            state="nothing_applies",
            applies=False,
            reason=f"No {side} rule reaches this holding: you do not live in {_the(side)}, are not a {side} "
            f"citizen, and the platform is not in {_the(side)}.",
        )
    statuses = tuple(statuses)
    chosen: list[Entry] = []
    for entry in layer.entries:
        if entry.concern != concern or entry.side != side or not entry.rule.reaches(holding, as_of):
            continue
        if not citable(entry.citation, documents, as_of, statuses):
            continue
        if chosen and (entry.applies != chosen[0].applies or entry.citation in {e.citation for e in chosen}):
            continue
        chosen.append(entry)
        if len(chosen) == MAX_QUOTES or entry.citation is None:
            break
    if not chosen:
        reached = [s for s in ("UK", "US") if linked(holding, s, concern)]
        if side == "gap" and len(reached) < 2:
            only = f"only {reached[0]} rules reach" if reached else "neither country's rules reach"
            return Cell(
                concern=concern,
                side="gap",
                state="nothing_applies",
                applies=False,
                reason=f"No cross-border gap: {only} this holding on this point.",
            )
        return Cell(
            concern=concern,
            side=side,  # type: ignore[arg-type]
            state="missing",
            applies=None,
            reason=MISSING_GAP_REASON if side == "gap" else MISSING_REASON,
        )
    first = chosen[0]
    return Cell(
        concern=concern,
        side=side,  # type: ignore[arg-type]
        state="applies" if first.applies else "nothing_applies",
        applies=first.applies,
        reason=first.reason,
        quotes=[_quote(e.citation, documents) for e in chosen if e.citation is not None],
    )


def add_months(day: dt.date, months: int) -> dt.date:
    """day moved by whole months (clamped to the month's last day)."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month + 1, last)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def _occurrences(event: Event, start: dt.date, end: dt.date) -> list[dt.date]:
    if not event.yearly:
        return [event.date] if start <= event.date <= end else []
    days = []
    for year in range(start.year, end.year + 1):
        try:
            day = event.date.replace(year=year)
        except ValueError:  # 29 February
            continue
        if start <= day <= end:
            days.append(day)
    return days


def build_timeline(
    holding: Holding,
    as_of: dt.date,
    layer: Layer,
    documents: Mapping[str, Document],
    statuses: Iterable[str],
    cited: Iterable[HoldingQuote],
) -> list[TimelineEvent]:
    """Dated events of the last 12 and the next 24 months that reach the holding: the layer's events, and the
    effective dates of the documents the matrix cites."""
    start, end = add_months(as_of, -PAST_MONTHS), add_months(as_of, COMING_MONTHS)
    statuses = tuple(statuses)
    events: list[TimelineEvent] = []
    for event in layer.events:
        if not event.rule.reaches(holding, as_of) or not citable(event.citation, documents, as_of, statuses):
            continue
        quote = _quote(event.citation, documents)
        for day in _occurrences(event, start, end):
            events.append(TimelineEvent(date=day, text=event.text, past=day < as_of, origin="layer", quote=quote))
    # A cited rule that is not yet in force adds the date it starts to apply (its front matter's `effective`),
    # unless a curated event already marks that day.
    known = {e.date for e in events}
    for quote in {q.doc_id: q for q in cited if q.status == "not_yet_in_force"}.values():
        effective = quote.effective
        if effective is None or not start <= effective <= end or effective in known:
            continue
        day = effective
        text = f"{quote.publisher}: {quote.title} applies"
        events.append(TimelineEvent(date=day, text=text, past=day < as_of, origin="front_matter", quote=quote))
        known.add(day)
    return sorted(events, key=lambda e: (e.date, e.text))


_SELF_CUSTODY = re.compile(
    r"self[- ]custody|own wallet|hardware wallet|cold (wallet|storage)|private keys?|seed phrase"
)


def prefill(questions: list[str]) -> dict[str, str]:
    """Holding fields read from an investor's own words, as the chat's "What I understood" reads them (earlier
    questions first); fields the words do not settle are left out."""
    questions = [q for q in questions if q.strip()]
    if not questions:
        return {}
    profile, _ = merge_history(questions[:-1], questions[-1])
    values: dict[str, str] = {}
    for field, value in (
        ("residence", profile.residence),
        ("citizenship", profile.citizenship),
        ("platform", profile.platform_location),
    ):
        if value in ("UK", "US"):
            values[field] = value
    assets = set(profile.asset_types)
    if "etn_etp" in assets:
        values["asset"] = "crypto_etn"
    elif "stablecoin" in assets:
        values["asset"] = "gbp_stablecoin" if profile.issuer_location == "UK" else "usd_stablecoin"
    elif assets & {"bitcoin", "ether", "token", "meme_coin"}:
        values["asset"] = "crypto"
    if _SELF_CUSTODY.search(" ".join(questions).lower()):
        values["custody"] = "self"
    return values


def describe_holding(holding: Holding) -> str:
    """The holding in one sentence."""
    where = {"UK": "in the UK", "US": "in the US", "elsewhere": "outside the UK and the US"}
    citizen = {
        "UK": "a UK citizen",
        "US": "a US citizen",
        "both": "a UK and US citizen",
        "other": "neither a UK nor a US citizen",
    }
    regulated = {True: "registered or authorised", False: "not registered or authorised", None: "registration unknown"}
    custody = "held on the platform" if holding.custody == "exchange" else "held in your own wallet"
    return (
        f"You live {where[holding.residence]} and are {citizen[holding.citizenship]}; the platform is "
        f"{where[holding.platform]} ({regulated[holding.platform_regulated]}); the asset is "
        f"{ASSET_LABELS[holding.asset]}, {custody}."
    )


def build_holding(
    holding: Holding,
    documents: Mapping[str, Document],
    as_of: dt.date | None = None,
    jurisdictions: Iterable[str] | None = None,
    statuses: Iterable[str] = ("in_force", "not_yet_in_force", "proposed", "consultation", "superseded"),
    layer: Layer | None = None,
) -> HoldingReport:
    """The matrix and the timeline for a holding on as_of (default today), from the curated layer."""
    as_of = as_of or dt.date.today()
    layer = layer or bundled_layer()
    wanted = [j for j in ("UK", "US") if not jurisdictions or j in {x.upper() for x in jurisdictions}]
    sides = wanted + (["gap"] if len(wanted) == 2 else [])
    statuses = tuple(statuses)
    matrix = {
        concern: {side: build_cell(concern, side, holding, as_of, layer, documents, statuses) for side in sides}
        for concern in CONCERNS
    }
    cited = [q for row in matrix.values() for cell in row.values() for q in cell.quotes]
    return HoldingReport(
        holding=holding,
        as_of=as_of,
        jurisdictions=wanted,
        summary=describe_holding(holding),
        matrix=matrix,
        timeline=build_timeline(holding, as_of, layer, documents, statuses, cited),
        notice=NOTICE,
    )


def _cell_lines(cell: Cell) -> list[str]:
    label = {"applies": "APPLIES", "nothing_applies": "NOTHING APPLIES", "missing": "MISSING"}[cell.state]
    lines = [f"  {cell.side}: {label}. {cell.reason}"]
    for quote in cell.quotes:
        lines.append(f'    "{quote.text}"')
        lines.append(
            f'      {quote.publisher}, {quote.title}, section "{quote.section}" ({quote.locator}); '
            f"{quote.status_label}; {quote.url}"
        )
    return lines


def holding_text(report: HoldingReport) -> str:
    """The report as plain text for a terminal."""
    lines = [f"My holding, as of {report.as_of.isoformat()}", report.summary, ""]
    for concern, row in report.matrix.items():
        lines.append(CONCERNS[concern])
        for cell in row.values():
            lines.extend(_cell_lines(cell))
        lines.append("")
    window = f"{PAST_MONTHS} months before and {COMING_MONTHS} months after {report.as_of.isoformat()}"
    lines.append(f"Timeline ({window})")
    if not report.timeline:
        lines.append("  No dated events reach this holding in that window.")
    for event in report.timeline:
        when = "past" if event.past else "coming"
        lines.append(f"  {event.date.isoformat()} [{when}] {event.text}")
        lines.append(
            f"      {event.quote.publisher}: {event.quote.title} ({event.quote.status_label}) {event.quote.url}"
        )
    lines.extend(["", report.notice])
    return "\n".join(lines)
