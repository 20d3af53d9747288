"""The one place that numbers citations and builds the answer object from cited sentences."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict
from typing import Any

from bot.index import Index
from bot.prompts import INJECTION_NOTE, NOTICE
from bot.render import render
from bot.types import Answer, AnswerProfile, Citation, Diagnostics, Evidence, EvidenceRef, Profile, Sentence

Entry = tuple[str, list[tuple[Evidence, str]]]  # sentence text, and (evidence, quoted passage) per citation


def citation_for(item: Evidence, number: int, quote: str) -> Citation:
    """The citation of one evidence chunk's section."""
    document = item.document
    return Citation(
        id=number,
        doc_id=document.id,
        title=document.title,
        publisher=document.publisher,
        jurisdiction=document.jurisdiction,
        section=item.section.heading,
        locator=item.section.locator,
        anchor=item.section.anchor,
        url=document.url,
        status=item.status,  # a section may be a draft inside a final document
        published=document.published,
        effective=document.effective,
        until=document.until,
        reviewed=document.reviewed,
        content_hash=document.content_hash,
        quote=quote,
    )


def finish(
    question: str,
    profile: Profile,
    kind: str,
    lead: str,
    entries: dict[str, list[Entry]],
    evidence: list[Evidence],
    index: Index,
    as_of: dt.date,
    timings: dict[str, float],
    numbering: dict[tuple[str, str], int] | None = None,
    diagnostics: dict[str, Any] | None = None,
) -> Answer:
    """Number the citations in reading order (or as already streamed) and build the answer object."""
    citations: dict[int, Citation] = {}
    keys: dict[tuple[str, str], int] = dict(numbering or {})
    out_sections: dict[str, list[Sentence]] = {}
    names = ("UK", "US", "cross_border", "next_steps")
    # In the order the composer gave (the side that answers best first), then any heading it left out.
    for name in [n for n in entries if n in names] + [n for n in names if n not in entries]:
        out_sections[name] = []
        for text, supports in entries.get(name, []):
            numbers: list[int] = []
            for item, quote in supports:
                key = (item.document.id, item.section.anchor)
                if key not in keys:
                    keys[key] = max(keys.values(), default=0) + 1
                if keys[key] not in citations:
                    citations[keys[key]] = citation_for(item, keys[key], quote)
                elif quote not in citations[keys[key]].quote:
                    citations[keys[key]].quote += " " + quote
                if keys[key] not in numbers:
                    numbers.append(keys[key])
            out_sections[name].append(Sentence(text=text, citations=numbers))
    citations = dict(sorted(citations.items()))

    if profile.injection_suspected and kind != "refusal":
        lead = (lead + " " + INJECTION_NOTE).strip()
    markdown = render(profile, kind, lead, out_sections, citations, index)
    return Answer(
        id=uuid.uuid4().hex,
        question=question,
        kind=kind,  # type: ignore[arg-type]
        answer=markdown,
        sections=out_sections,
        citations=citations,
        profile=AnswerProfile.model_validate({k: v for k, v in asdict(profile).items() if k != "own_subject"}),
        timings=timings,
        as_of=as_of,
        corpus_version=index.corpus_version,
        index_build=index.build_id,
        notice=NOTICE,
        diagnostics=Diagnostics.model_validate(diagnostics or {"composer": "extractive"}),
        evidence=[
            EvidenceRef(
                doc_id=e.document.id,
                section=e.section.anchor,
                group=e.group,  # type: ignore[arg-type]
                score=round(e.score, 5),
                similarity=round(e.dense_similarity, 4),
            )
            for e in evidence
        ],
    )
