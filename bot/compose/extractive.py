"""Compose an answer from retrieved evidence: extractive, cited, grouped by jurisdiction."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

from bot.compose.citations import Entry, finish
from bot.index import Index
from bot.prompts import FIRM_SERVICE, NO_GUIDANCE, OUT_OF_SCOPE, REFUSAL
from bot.retrieval import expansion_terms, synonym_terms
from bot.settings import AnswerSettings
from bot.text import terms
from bot.types import Answer, Evidence, Profile

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
