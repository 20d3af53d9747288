"""Compose an answer from retrieved evidence: extractive, cited, grouped by jurisdiction."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from bot.compose import relevance
from bot.compose.citations import Entry
from bot.index import Index
from bot.prompts import FIRM_SERVICE, INJECTION_REFUSAL, NO_GUIDANCE, OTHER_COUNTRY, OUT_OF_SCOPE, REFUSAL
from bot.retrieval import expansion_terms, synonym_terms
from bot.settings import AnswerSettings
from bot.text import terms
from bot.types import Evidence, Profile

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
# A yes/no question ("is my ether covered?") is answered by a sentence that says yes or no.
YES_NO_QUESTION = re.compile(
    r"^\s*(?:\w+,\s*)?(is|are|am|was|were|do|does|did|can|could|will|would|should|must|has|have|may|might)\b", re.I
)
POLAR = re.compile(
    r"\b(not|no|never|cannot|can't|does not|do not|is not|are not|isn't|aren't|doesn't|don't|only|must|"
    r"covered|protected|protects|allowed|banned|illegal|required|applies|exempt)\b",
    re.I,
)
# A sentence written for US citizens (abroad) ranks lower when the investor has said nothing about who they
# are: reviewers found such caveats the largest group of off-topic bullets.
PERSONA_PENALTY = 0.15
OVERLAP_WEIGHT = 0.25  # weight of the share of question words a sentence holds
CHUNK_PRIOR = 0.3  # weight of the chunk's fused rank (hybrid agreement) in a sentence's score
QUESTION_PRIOR = 2.0  # weight of how close the section's investor questions ('Q:' lines) are to the question
TYPE_BONUS = 0.06  # a sentence of the kind the question asks for: a figure or date, or a yes or no
# A sentence is on the question's subject when it shares a word with it (or its official wording),
# when it is close in meaning, or when its section answers an investor question close to this one.
MIN_ON_TOPIC_SIMILARITY = 0.45
NEAR_REPEAT = 0.92  # cosine above which a sentence repeats one already quoted
# Words every sentence of this corpus shares with every question; sharing only these says nothing.
GENERIC_TERMS = frozenset(
    terms(
        "crypto cryptoasset cryptoassets cryptocurrency cryptocurrencies asset assets digital uk us united kingdom "
        "states firm firms exchange exchanges platform platforms investor investors rule rules money people customer "
        "customers"
    )
)
MIN_ON_TOPIC_QUESTION = 0.6


# Sentences written for one kind of investor. When the question says who the investor is and they are
# not that kind, such a sentence answers someone else's question.
FOR_US_CITIZENS = re.compile(
    r"\b(?:US|U\.S\.) (?:citizens?|persons?|taxpayers?|expats?)\b|\bAmericans?\b|\bgreen card", re.I
)
FOR_UK_RESIDENTS = re.compile(r"\bUK[- ](?:residents?|taxpayers?)\b|\b(?:resident|living) in the UK\b", re.I)
# One person who is both: a US citizen who lives in the UK (or abroad).
US_CITIZEN_ABROAD = re.compile(
    r"\b(?:US|U\.S\.) (?:citizens?|persons?|taxpayers?|expats?) (?:(?:who (?:is|are|lives?) |living |resident |based )?"
    r"in (?:the UK|London|Britain|the United Kingdom)|(?:who (?:live|lives) |living )?abroad)\b",
    re.I,
)
FOR_US_RESIDENTS = re.compile(r"\bUS[- ]residents?\b|\b(?:resident|living) in the (?:US|United States)\b", re.I)


def written_for_someone_else(text: str, profile: Profile) -> bool:
    """The sentence is about US citizens, UK residents or US residents, and the investor said they are not."""
    known = profile.residence is not None or profile.citizenship is not None
    if not known:
        return False
    us_citizen = profile.citizenship == "US" or profile.residence == "US"
    if US_CITIZEN_ABROAD.search(text) and not us_citizen:
        return True  # "a US citizen living in the UK" is not written for a UK resident who is not American
    if FOR_US_CITIZENS.search(text) and not us_citizen and not FOR_UK_RESIDENTS.search(text):
        return True
    if FOR_UK_RESIDENTS.search(text) and profile.residence not in (None, "UK") and not FOR_US_CITIZENS.search(text):
        return True
    return bool(FOR_US_RESIDENTS.search(text) and profile.residence not in (None, "US"))


@dataclass
class _Candidate:
    evidence: Evidence
    text: str
    vector: np.ndarray
    score: float
    is_action: bool
    on_topic: bool = True
    # The parts of the score, kept for the learned relevance check (bot/compose/relevance.py).
    similarity: float = 0.0
    overlap: float = 0.0
    specific: int = 0
    section_match: float = 0.0
    chunk_prior: float = 0.0
    type_match: bool = False


def _candidates(
    index: Index,
    evidence: list[Evidence],
    query_vector: np.ndarray,
    query_terms: set[str],
    question: str,
    expansions: dict[str, set[str]] | None = None,
    profile: Profile | None = None,
) -> list[_Candidate]:
    found: list[_Candidate] = []
    seen: set[str] = set()
    numeric = bool(NUMERIC_QUESTION.search(question))
    persona_unstated = profile is not None and profile.citizenship is None and profile.residence is None
    yes_no = bool(YES_NO_QUESTION.search(question)) and not numeric
    top = {g: max(e.score for e in evidence if e.group == g) for g in {e.group for e in evidence}}
    for item in sorted(evidence, key=lambda e: -e.score):
        if item.section.status in ("superseded", "withdrawn"):
            continue  # background kept for the record (an earlier draft), never quoted as a rule
        chunk_prior = item.score / top[item.group]
        section_match = item.question_similarity
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
            shared = len(query_terms & sentence_terms) + 0.5 * len(extra & sentence_terms)
            specific = (query_terms | extra) & sentence_terms - GENERIC_TERMS
            overlap = shared / max(1, len(query_terms))
            similarity = float(similarities[position])
            score = similarity + OVERLAP_WEIGHT * overlap + 0.1 * item.dense_similarity
            score += CHUNK_PRIOR * chunk_prior + QUESTION_PRIOR * max(0.0, section_match - 0.3)
            if persona_unstated and FOR_US_CITIZENS.search(text):
                score -= PERSONA_PENALTY
            type_match = bool((numeric and HAS_NUMBER.search(text)) or (yes_no and POLAR.search(text)))
            if type_match:
                score += TYPE_BONUS
            on_topic = bool(specific) or similarity >= MIN_ON_TOPIC_SIMILARITY or section_match >= MIN_ON_TOPIC_QUESTION
            found.append(
                _Candidate(
                    item,
                    text,
                    vectors[position],
                    score,
                    bool(ACTION.search(text)) and not NOT_ACTION.search(text),
                    on_topic,
                    similarity,
                    overlap,
                    len(specific),
                    section_match,
                    chunk_prior,
                    type_match,
                )
            )
    return found


FIGURE = re.compile(r"\d[\d,.]*")


def _figures(text: str) -> set[str]:
    return {f.rstrip(".,") for f in FIGURE.findall(text)}


def repeats(candidate: _Candidate, chosen: list[_Candidate]) -> bool:
    """The candidate says again what a quoted sentence says: close in meaning and bringing no figure
    (amount, date, percentage) the quoted sentence lacks. Two sentences that differ only in their
    figures ("70% ... 30%" beside "40% ...", a long-term rate beside a short-term one) are both facts."""
    return any(
        float(candidate.vector @ other.vector) > NEAR_REPEAT and _figures(candidate.text) <= _figures(other.text)
        for other in chosen
    )


def _mmr(
    candidates: list[_Candidate], limit: int, chosen: list[_Candidate], lam: float, floor: float
) -> list[_Candidate]:
    picked: list[_Candidate] = []
    pool = [c for c in candidates if c.score >= floor]
    while pool and len(picked) < limit:

        def value(c: _Candidate) -> float:
            redundancy = max((float(c.vector @ other.vector) for other in chosen), default=0.0)
            return lam * c.score - (1 - lam) * redundancy

        best = max(pool, key=value)
        pool.remove(best)
        if repeats(best, chosen):
            continue  # a near-repeat of a sentence already quoted
        picked.append(best)
        chosen.append(best)
    return picked


def question_parts(question: str) -> list[str]:
    """The separate questions in a message ("Is X covered? And how is it taxed?"), when there are several."""
    parts = [p.strip() for p in re.split(r"(?<=\?)\s+", question) if p.strip()]
    parts = [p for p in parts if p.endswith("?") and len(p.split()) >= 4]
    return parts if len(parts) >= 2 else []


def _answer_each_part(
    question: str,
    candidates: list[_Candidate],
    sections: dict[str, list[tuple[_Candidate, str]]],
    chosen: list[_Candidate],
) -> None:
    """Make sure each part of a several-part question has its best sentence in the answer."""
    used = {c.text for picked in sections.values() for c, _ in picked}
    for part in question_parts(question):
        wanted = set(terms(part))
        scored = [(c.score + 0.5 * len(wanted & set(terms(c.text))) / max(1, len(wanted)), c) for c in candidates]
        scored = [(value, c) for value, c in scored if wanted & set(terms(c.text))]
        if not scored:
            continue
        _, best = max(scored, key=lambda pair: pair[0])
        if best.text in used:
            continue
        group = best.evidence.group
        name = "cross_border" if group == "INTL" else group
        sections[name].append((best, name))
        chosen.append(best)
        used.add(best.text)


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
    if kind == "answer" or (kind == "refusal" and profile.intent != "injection"):
        query_terms = set(terms(question))
        synonyms = set(synonym_terms(question))
        expansions = {group: set(expansion_terms(profile, group)) | synonyms for group in ("UK", "US", "INTL")}
        candidates = [
            c
            for c in _candidates(index, evidence, query_vector, query_terms, question, expansions, profile)
            if c.on_topic
            and not written_for_someone_else(c.text, profile)
            # International standards only when the question asks about them (CARF, FATF, IOSCO...).
            and (c.evidence.group != "INTL" or "INTL" in profile.jurisdictions)
        ]
        per_section = settings.sentences_per_section if kind == "answer" else 2

        def floor_for(pool: list[_Candidate]) -> float:
            # A sentence far weaker than the best one is noise, not an answer. Each jurisdiction is
            # measured against its own best sentence, so one side never crowds out the other.
            best = max((c.score for c in pool), default=0.0)
            return max(settings.min_sentence_score, settings.relative_sentence_score * best)

        chosen: list[_Candidate] = []
        routed: dict[str, list[_Candidate]] = {"UK": [], "US": [], "cross_border": []}
        for candidate in candidates:
            group = candidate.evidence.group
            if group == "INTL" or (profile.cross_border and candidate.evidence.section.is_cross_border):
                routed["cross_border"].append(candidate)
            else:
                routed[group].append(candidate)
        single = sum(1 for name in ("UK", "US") if routed[name]) == 1
        limits: dict[str, int] = {}
        for name in ("UK", "US", "cross_border"):
            limit = per_section if name != "cross_border" else max(2, per_section - 1)
            if single and name in ("UK", "US") and kind == "answer":
                limit += settings.single_side_extra  # one jurisdiction: room for more of its facts
            limits[name] = limit
            for picked in _mmr(routed[name], limit, chosen, settings.mmr_lambda, floor_for(routed[name])):
                sections[name].append((picked, name))
        _answer_each_part(question, candidates, sections, chosen)
        used = {c.text for entries in sections.values() for c, _ in entries}
        actions = [c for c in candidates if c.is_action and c.text not in used]
        for picked in _mmr(actions, settings.next_steps, chosen, settings.mmr_lambda, floor_for(candidates)):
            sections["next_steps"].append((picked, "next_steps"))
        if kind == "refusal":
            # A refusal's general guidance is there only where it bears on what was asked: no best bullet is
            # kept for its own sake, so a refusal may stand with its pointer to advisers alone.
            _keep_relevant(question, sections, candidates, profile, single, settings, keep_one=False)
        if kind == "answer":
            _keep_relevant(question, sections, candidates, profile, single, settings)
            if settings.refill_relevant:
                floors = {name: floor_for(pool) for name, pool in routed.items()}
                _refill(question, sections, routed, limits, floors, candidates, profile, single, settings)
        if kind == "answer" and not any(sections[name] for name in ("UK", "US", "cross_border")):
            kind, lead = "no_guidance", NO_GUIDANCE
            sections = {name: [] for name in sections}

    entries = {name: [(c.text, [(c.evidence, c.text)]) for c, _ in picked] for name, picked in sections.items()}
    return kind, lead, entries


def _row(
    c: _Candidate,
    section: str,
    rank: int,
    best: float,
    profile: Profile,
    single: bool,
    question: str,
    before: list[np.ndarray],
) -> list[float]:
    return relevance.row(
        similarity=c.similarity,
        overlap=c.overlap,
        specific=c.specific,
        section_match=c.section_match,
        chunk_prior=c.chunk_prior,
        chunk_similarity=c.evidence.dense_similarity,
        relative_score=c.score / best,
        rank=rank,
        section=section,
        group=c.evidence.group,
        profile=profile,
        single_side=single,
        action=c.is_action,
        type_match=c.type_match,
        text=c.text,
        question=question,
        redundancy=max((float(c.vector @ v) for v in before), default=0.0),
    )


def _relevance_model(settings: AnswerSettings) -> tuple[relevance.RelevanceModel, float] | None:
    """The relevance model and the bullet threshold to apply, or None when the check is off or untrained."""
    model = relevance.load()
    threshold = settings.min_on_topic_probability
    if model is None or threshold == 0:
        return None
    return model, model.threshold if threshold is None else threshold


def _refill(
    question: str,
    sections: dict[str, list[tuple[_Candidate, str]]],
    routed: dict[str, list[_Candidate]],
    limits: dict[str, int],
    floors: dict[str, float],
    candidates: list[_Candidate],
    profile: Profile,
    single: bool,
    settings: AnswerSettings,
) -> None:
    """Where the relevance check left room under a heading, offer that heading's next candidates (above
    the same score floor, not near-repeats) in score order, keeping each the model finds on topic."""
    checked = _relevance_model(settings)
    if checked is None:
        return
    model, threshold = checked
    best = max((c.score for c in candidates), default=1.0) or 1.0
    used = {c.text for entries in sections.values() for c, _ in entries}
    chosen = [c for entries in sections.values() for c, _ in entries]
    for name, pool in routed.items():
        for c in sorted(pool, key=lambda c: -c.score):
            if len(sections[name]) >= limits[name]:
                break
            if c.text in used or c.score < floors[name]:
                continue
            if repeats(c, chosen):
                continue
            probability = model.probability(
                np.array(
                    [_row(c, name, len(sections[name]), best, profile, single, question, [p.vector for p in chosen])]
                ),
                np.array([bool(c.evidence.section.questions)]),
            )
            if probability[0] >= threshold:
                sections[name].append((c, name))
                used.add(c.text)
                chosen.append(c)


def _keep_relevant(
    question: str,
    sections: dict[str, list[tuple[_Candidate, str]]],
    candidates: list[_Candidate],
    profile: Profile,
    single: bool,
    settings: AnswerSettings,
    keep_one: bool = True,
) -> None:
    """Leave out the bullets the learned relevance model (bot/compose/relevance.py) finds off topic, and
    a heading whose best bullet is unlikely to be on topic.

    The answer's single most likely bullet always stays (unless `keep_one` is false, for a refusal), so
    the check never turns an answer into "no guidance"; a heading left with nothing is left out when the
    answer is rendered."""
    picked = [(name, rank, c) for name, entries in sections.items() for rank, (c, _) in enumerate(entries)]
    if not picked:
        return
    best = max((c.score for c in candidates), default=1.0) or 1.0
    rows = np.array(
        [
            _row(c, name, rank, best, profile, single, question, [p.vector for _, _, p in picked[:i]])
            for i, (name, rank, c) in enumerate(picked)
        ]
    )
    record = relevance.RECORD.get()
    if record is not None:
        for (name, rank, c), values in zip(picked, rows, strict=True):
            record.append(
                {
                    "section": name,
                    "rank": rank,
                    "text": c.text,
                    "doc_id": c.evidence.document.id,
                    "features": values.tolist(),
                }
            )
    checked = _relevance_model(settings)
    if checked is None:
        return
    model, threshold = checked
    probabilities = model.probability(rows, np.array([bool(c.evidence.section.questions) for _, _, c in picked]))
    section_best: dict[str, float] = {}
    for (name, _, _), probability in zip(picked, probabilities, strict=True):
        section_best[name] = max(section_best.get(name, 0.0), float(probability))
    keep_best = max(
        (i for i, (name, _, _) in enumerate(picked) if name != "next_steps"),
        key=lambda i: probabilities[i],
        default=None,
    )
    if not keep_one:
        keep_best = None
    section_threshold = model.section_threshold if settings.min_on_topic_probability is None else 0.0
    dropped = {
        id(c)
        for i, ((name, _, c), p) in enumerate(zip(picked, probabilities, strict=True))
        if i != keep_best and (p < threshold or section_best[name] < section_threshold)
    }
    for name in sections:
        sections[name] = [(c, n) for c, n in sections[name] if id(c) not in dropped]


def decide_kind(profile: Profile, evidence: list[Evidence], settings: AnswerSettings) -> tuple[str, str]:
    """answer, refusal or no_guidance, with the lead sentence that goes with it."""
    best = max((e.dense_similarity for e in evidence), default=0.0)
    if profile.intent == "out_of_scope":
        return "no_guidance", OUT_OF_SCOPE
    if profile.intent == "firm_service":
        return "no_guidance", FIRM_SERVICE
    if profile.intent == "other_country":
        names = {"eu": "the EU", "european union": "the EU", "mica": "the EU (MiCA)", "uae": "the UAE"}
        named = list(dict.fromkeys(names.get(c, c.title()) for c in profile.other_countries))
        return "no_guidance", OTHER_COUNTRY.format(countries=" or ".join(named) or "other countries")
    if profile.intent == "injection":
        return "refusal", INJECTION_REFUSAL
    if profile.intent in ("personal_advice", "price_prediction"):
        return "refusal", REFUSAL
    if best < settings.min_relevance:
        return "no_guidance", NO_GUIDANCE
    return "answer", ""
