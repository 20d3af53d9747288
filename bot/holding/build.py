"""The matrix and the timeline for one holding on one date, from the curated layer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from bot.holding.layer import Citation, Entry, Event, Layer, bundled_layer, condition_values, find_section, normal_space
from bot.holding.models import (
    COMING_MONTHS,
    CONCERNS,
    MAX_QUOTES,
    MISSING_GAP_REASON,
    MISSING_REASON,
    PAST_MONTHS,
    Cell,
    Holding,
    HoldingQuote,
    HoldingReport,
    TimelineEvent,
)
from bot.holding.text import describe_holding
from bot.prompts import NOTICE
from bot.render import status_text
from bot.types import Document


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
    return normal_space(citation.quote) in normal_space(section.text)


def _the(side: str) -> str:
    return f"the {side}"


def linked(holding: Holding, side: str, concern: str) -> bool:
    """Whether anything ties the holding to side: residence, citizenship, the platform, or (for the issuer) the
    coin's currency."""
    if holding.residence == side or side in condition_values(holding, "citizenship") or holding.platform == side:
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
