"""Compose an answer from retrieved evidence: extractive, cited, grouped by jurisdiction."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from bot.analysis import describe
from bot.index import Index
from bot.prompts import ADVICE_POINTER, FIRM_SERVICE, INJECTION_NOTE, NO_GUIDANCE, NOTICE, OUT_OF_SCOPE, REFUSAL
from bot.retrieval import expansion_terms, synonym_terms
from bot.settings import AnswerSettings
from bot.text import terms
from bot.types import Answer, Chunk, Citation, Evidence, Profile, Sentence

# A "next step" sentence tells the reader something they can do: a modal + action verb, a
# "report/complain to" phrase, or a named place to check or report.
ACTION = re.compile(
    r"\b(can|should|must|may|need to|needs to|has to|have to)\s+(first\s+|also\s+|still\s+)?"
    r"(check|search|report|complain|contact|call|visit|use|file|submit|look up|verify|refer|ask|apply|"
    r"tell|declare|claim|keep|get|seek|read|register)\b"
    r"|\b(report|complain|refer)\w*\s+(it\s+|them\s+|the \w+\s+)?to\b"
    r"|\b(warning list|brokercheck|reportfraud|report fraud|ic3\.gov|sec\.gov/tcr|cftc\.gov|consumerfinance\.gov|"
    r"financial services register|firm checker|investor\.gov)\b",
    re.I,
)
NOT_ACTION = re.compile(
    r"\b(found that|research|survey|believed|thought that|per cent)\b|%", re.I
)  # findings, not steps
NUMERIC_QUESTION = re.compile(
    r"\bhow (much|many|long|soon)\b|\bwhen\b|\blimit|\bthreshold|\bcap\b|\bdate|\bdeadline|\bmaximum|\bup to\b", re.I
)
HAS_NUMBER = re.compile(r"\d")
CHUNK_PRIOR = 0.3  # weight of the chunk's fused rank (hybrid agreement) in a sentence's score
STATUS_LABELS = {
    "in_force": "in force",
    "not_yet_in_force": "not yet in force",
    "proposed": "proposal, not law",
    "consultation": "consultation: a proposal, not law",
    "superseded": "superseded",
    "withdrawn": "withdrawn",
}
HEADINGS = {
    "UK": "UK rules",
    "US": "US rules",
    "cross_border": "Across the border",
    "next_steps": "What you can check or do next",
}


@dataclass
class _Candidate:
    evidence: Evidence
    text: str
    vector: np.ndarray
    score: float
    is_action: bool


def _candidates(
    index: Index,
    evidence: list[Evidence],
    query_vector: np.ndarray,
    query_terms: set[str],
    numeric: bool,
    expansions: dict[str, set[str]] | None = None,
) -> list[_Candidate]:
    found: list[_Candidate] = []
    seen: set[str] = set()
    top = {g: max(e.score for e in evidence if e.group == g) for g in {e.group for e in evidence}}
    for item in sorted(evidence, key=lambda e: -e.score):
        chunk_prior = item.score / top[item.group]
        row = index.chunk_position[item.chunk.id]
        start = int(index.sentence_start[row])
        vectors = index.sentence_vectors[start : start + len(item.chunk.sentences)]
        similarities = vectors @ query_vector
        # Topic expansion words (e.g. "FSCS" for a UK protection question) count half.
        extra = (expansions or {}).get(item.group, set()) - query_terms
        for position, text in enumerate(item.chunk.sentences):
            if text in seen or len(text) < 25:
                continue
            seen.add(text)
            sentence_terms = index.sentence_terms[row][position]
            overlap = (len(query_terms & sentence_terms) + 0.5 * len(extra & sentence_terms)) / max(1, len(query_terms))
            score = float(similarities[position]) + 0.25 * overlap + 0.1 * item.dense_similarity
            score += CHUNK_PRIOR * chunk_prior
            if numeric and HAS_NUMBER.search(text):
                score += 0.05
            found.append(
                _Candidate(
                    item, text, vectors[position], score, bool(ACTION.search(text)) and not NOT_ACTION.search(text)
                )
            )
    return found


def _mmr(
    candidates: list[_Candidate], limit: int, chosen_vectors: list[np.ndarray], lam: float, floor: float
) -> list[_Candidate]:
    picked: list[_Candidate] = []
    pool = [c for c in candidates if c.score >= floor]
    while pool and len(picked) < limit:

        def value(c: _Candidate) -> float:
            redundancy = max((float(c.vector @ v) for v in chosen_vectors), default=0.0)
            return lam * c.score - (1 - lam) * redundancy

        best = max(pool, key=value)
        pool.remove(best)
        if any(float(best.vector @ v) > 0.92 for v in chosen_vectors):
            continue  # a near-repeat of a sentence already quoted
        picked.append(best)
        chosen_vectors.append(best.vector)
    return picked


def compose(
    question: str,
    profile: Profile,
    evidence: list[Evidence],
    query_vector: np.ndarray,
    index: Index,
    settings: AnswerSettings,
    as_of: dt.date,
    timings: dict[str, float],
) -> Answer:
    """Build the answer object: kind, cited sentences per section, rendered Markdown."""
    kind, lead, entries = select(question, profile, evidence, query_vector, index, settings)
    return finish(question, profile, kind, lead, entries, evidence, index, as_of, timings)


def select(
    question: str,
    profile: Profile,
    evidence: list[Evidence],
    query_vector: np.ndarray,
    index: Index,
    settings: AnswerSettings,
) -> tuple[str, str, dict[str, list[Entry]]]:
    """The extractive choice: kind, lead, and the quoted sentences per section with their evidence."""
    kind, lead = decide_kind(profile, evidence, settings)

    sections: dict[str, list[tuple[_Candidate, str]]] = {"UK": [], "US": [], "cross_border": [], "next_steps": []}
    if kind != "no_guidance":
        query_terms = set(terms(question))
        synonyms = set(synonym_terms(question))
        expansions = {group: set(expansion_terms(profile, group)) | synonyms for group in ("UK", "US", "INTL")}
        candidates = _candidates(
            index, evidence, query_vector, query_terms, bool(NUMERIC_QUESTION.search(question)), expansions
        )
        per_section = settings.sentences_per_section if kind == "answer" else 2

        def floor_for(pool: list[_Candidate]) -> float:
            # A sentence far weaker than the best one is noise, not an answer. Each jurisdiction is
            # measured against its own best sentence, so one side never crowds out the other.
            best = max((c.score for c in pool), default=0.0)
            return max(settings.min_sentence_score, settings.relative_sentence_score * best)

        chosen: list[np.ndarray] = []
        routed: dict[str, list[_Candidate]] = {"UK": [], "US": [], "cross_border": []}
        for candidate in candidates:
            group = candidate.evidence.group
            if group == "INTL" or (profile.cross_border and candidate.evidence.section.is_cross_border):
                routed["cross_border"].append(candidate)
            else:
                routed[group].append(candidate)
        single = sum(1 for name in ("UK", "US") if routed[name]) == 1
        for name in ("UK", "US", "cross_border"):
            limit = per_section if name != "cross_border" else max(2, per_section - 1)
            if single and name in ("UK", "US") and kind == "answer":
                limit += 2  # one jurisdiction: room for more of its facts
            for picked in _mmr(routed[name], limit, chosen, settings.mmr_lambda, floor_for(routed[name])):
                sections[name].append((picked, name))
        used = {c.text for entries in sections.values() for c, _ in entries}
        actions = [c for c in candidates if c.is_action and c.text not in used]
        for picked in _mmr(actions, settings.next_steps, chosen, settings.mmr_lambda, floor_for(candidates)):
            sections["next_steps"].append((picked, "next_steps"))
        if kind == "answer" and not any(sections[name] for name in ("UK", "US", "cross_border")):
            kind, lead = "no_guidance", NO_GUIDANCE
            sections = {name: [] for name in sections}

    entries = {name: [(c.text, [(c.evidence, c.text)]) for c, _ in picked] for name, picked in sections.items()}
    return kind, lead, entries


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
        status=document.status,
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
    for name in ("UK", "US", "cross_border", "next_steps"):
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
        profile=asdict(profile),
        timings=timings,
        as_of=as_of,
        corpus_version=index.corpus_version,
        index_build=index.build_id,
        notice=NOTICE,
        diagnostics=diagnostics or {"composer": "extractive"},
        evidence=[
            {
                "doc_id": e.document.id,
                "section": e.section.anchor,
                "group": e.group,
                "score": round(e.score, 5),
                "similarity": round(e.dense_similarity, 4),
            }
            for e in evidence
        ],
    )


def decide_kind(profile: Profile, evidence: list[Evidence], settings: AnswerSettings) -> tuple[str, str]:
    """answer, refusal or no_guidance, with the lead sentence that goes with it."""
    best = max((e.dense_similarity for e in evidence), default=0.0)
    if profile.intent == "out_of_scope":
        return "no_guidance", OUT_OF_SCOPE
    if profile.intent == "firm_service":
        return "no_guidance", FIRM_SERVICE
    if profile.intent in ("personal_advice", "price_prediction"):
        return "refusal", REFUSAL
    if best < settings.min_relevance:
        return "no_guidance", NO_GUIDANCE
    return "answer", ""


def _label(citation: Citation) -> str:
    if citation.status in ("proposed", "consultation"):
        return " _(proposal, not law)_"
    if citation.status == "not_yet_in_force" and citation.effective:
        return f" _(not yet in force: applies from {citation.effective:%-d %B %Y})_"
    return ""


def _reason(profile: Profile, jurisdiction: str) -> str:
    reasons = []
    if profile.residence == jurisdiction:
        reasons.append("where you live")
    if profile.citizenship == jurisdiction and profile.residence != jurisdiction:
        reasons.append("your citizenship")
    if profile.platform_location == jurisdiction:
        reasons.append("where your platform is")
    if profile.issuer_location == jurisdiction:
        reasons.append("where the coin is issued")
    return f" (they reach you through {', '.join(reasons)})" if reasons else ""


def render(
    profile: Profile,
    kind: str,
    lead: str,
    sections: dict[str, list[Sentence]],
    citations: dict[int, Citation],
    index: Index,
) -> str:
    """The answer as Markdown for a person."""
    lines: list[str] = []
    if kind != "no_guidance" or profile.intent != "out_of_scope":
        lines.append(f"**What I understood:** {describe(profile)}")
        lines.append("")
    if lead:
        lines.append(lead)
        lines.append("")
    for name in ("UK", "US", "cross_border", "next_steps"):
        if not sections[name]:
            continue
        heading = HEADINGS[name] + (_reason(profile, name) if name in ("UK", "US") else "")
        if kind == "refusal" and name in ("UK", "US", "cross_border"):
            heading = "General guidance: " + heading
        lines.append(f"**{heading}**")
        for sentence in sections[name]:
            markers = "".join(f"[{c}]" for c in sentence.citations)
            labels = "".join(_label(citations[c]) for c in sentence.citations)
            lines.append(f"- {sentence.text} {markers}{labels}")
        lines.append("")
    if kind == "refusal":
        lines.append(ADVICE_POINTER)
        lines.append("")
    if citations:
        lines.append("**Sources**")
        for number, citation in citations.items():
            status = status_text(citation.status, citation.effective)
            lines.append(
                f'[{number}] {citation.publisher}: "{citation.title}", section "{citation.section}" '
                f"({citation.locator}) ({status}; published {citation.published.isoformat()}; "
                f"reviewed {citation.reviewed.isoformat()}) {citation.url}"
            )
        lines.append("")
    lines.append(f"_{NOTICE}_")
    return "\n".join(lines)


def understood_line(profile: Profile) -> str:
    return f"**What I understood:** {describe(profile)}"


def section_heading(profile: Profile, name: str) -> str:
    return f"**{HEADINGS[name]}{_reason(profile, name) if name in ('UK', 'US') else ''}**"


def sentence_line(text: str, citations: list[Citation]) -> str:
    markers = "".join(f"[{c.id}]" for c in citations)
    return f"- {text} {markers}{''.join(_label(c) for c in citations)}"


def status_text(status: str, effective: dt.date | None) -> str:
    """A source's status for a reader: 'proposal, not law', 'not yet in force, applies from 2027-01-18'..."""
    text = STATUS_LABELS.get(status, status)
    if status == "not_yet_in_force" and effective:
        text += f", applies from {effective.isoformat()}"
    return text


def chunk_passage(index: Index, chunk: Chunk, number: int, jurisdiction: str, key: Any = None) -> Any:
    """One indexed chunk as a numbered passage for the model, labelled with its source, status and dates."""
    from bot.llm import Passage

    row = index.chunk_position[chunk.id]
    start = int(index.sentence_start[row])
    document = index.documents[chunk.doc_id]
    section = index.sections[(chunk.doc_id, chunk.section_anchor)]
    label = (
        f"{document.publisher}: {document.title} > {section.heading} ({section.locator}); "
        f"{status_text(document.status, document.effective)}; published {document.published.isoformat()}"
    )
    return Passage(
        number=number,
        jurisdiction=jurisdiction,
        label=label,
        text=chunk.text,
        sentences=list(chunk.sentences),
        sentence_vectors=index.sentence_vectors[start : start + len(chunk.sentences)],
        key=key,
    )


def llm_passages(evidence: list[Evidence], index: Index, limit: int) -> list[Any]:
    """The evidence as numbered passages for the model: best first, taking turns between jurisdictions."""
    by_group: dict[str, list[Evidence]] = {}
    for item in sorted(evidence, key=lambda e: -e.score):
        by_group.setdefault(item.group, []).append(item)
    order: list[Evidence] = []
    while len(order) < limit and any(by_group.values()):
        for group in ("UK", "US", "INTL"):
            if by_group.get(group) and len(order) < limit:
                order.append(by_group[group].pop(0))
    passages = []
    for number, item in enumerate(order, start=1):
        jurisdiction = "INTL" if item.group == "INTL" else item.document.jurisdiction
        passages.append(chunk_passage(index, item.chunk, number, jurisdiction, key=item))
    return passages
