"""Hybrid retrieval: dense (Chroma) and BM25 rankings fused, with per-jurisdiction quotas."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from bot.index import Index, _ord
from bot.settings import RetrievalSettings
from bot.text import terms
from bot.types import Evidence, Profile

# Words that steer the lexical search towards each side's own rules for a topic, so that a
# cross-border question finds, say, both the FSCS and the SIPC pages.
EXPANSIONS: dict[tuple[str, str], str] = {
    ("protection", "UK"): "FSCS compensation cryptoassets not protected firm fails",
    ("protection", "US"): "SIPC FDIC insurance crypto not covered platform fails",
    ("protection", "INTL"): "investor protection custody",
    ("complaints", "UK"): "Financial Ombudsman Service complaint",
    ("complaints", "US"): "complaint CFPB SEC CFTC report tip",
    ("tax", "UK"): "HMRC capital gains tax cryptoassets",
    ("tax", "US"): "IRS digital assets tax property",
    ("tax", "INTL"): "CARF tax reporting",
    ("reporting", "UK"): "HMRC CARF reporting disclose",
    ("reporting", "US"): "Form 1099-DA FBAR Form 8938 report",
    ("reporting", "INTL"): "CARF exchange of information",
    ("stablecoins", "UK"): "stablecoin redemption backing Bank of England FCA",
    ("stablecoins", "US"): "GENIUS Act payment stablecoin reserves redemption",
    ("stablecoins", "INTL"): "stablecoin",
    ("scams", "UK"): "scam fraud FCA warning list ScamSmart Report Fraud",
    ("scams", "US"): "fraud scam CFTC advisory IC3 report",
    ("registration", "UK"): "FCA register authorised registered cryptoasset firm",
    ("registration", "US"): "registration FinCEN money services business state licence",
    ("promotions", "UK"): "financial promotion cryptoassets cooling-off risk warning",
    ("promotions", "US"): "advertising fraud",
    ("staking", "UK"): "staking income HMRC staking providers FCA authorisation",
    ("staking", "US"): "protocol staking SEC statement",
    ("custody", "UK"): "custody safeguarding client cryptoassets",
    ("custody", "US"): "custody crypto asset broker",
    ("etps", "UK"): "cryptoasset exchange traded notes cETN retail",
    ("etps", "US"): "exchange-traded products listing standards",
    ("derivatives", "UK"): "crypto derivatives ban retail",
    ("derivatives", "US"): "CFTC futures derivatives",
    ("regime", "UK"): "new cryptoasset regime authorisation 2027",
    ("regime", "US"): "GENIUS Act CLARITY Act",
    ("banking", "US"): "FDIC deposit insurance bank",
    ("risk_warnings", "UK"): "high risk prepared to lose all your money FCA warning",
    ("risk_warnings", "US"): "risky volatile investor alert lose money",
    ("banking", "UK"): "FSCS deposit bank",
}


# Investors' words for what official texts call something else; added to the lexical query.
SYNONYMS: dict[str, str] = {
    "allowance": "annual exempt amount",
    "cgt": "capital gains tax",
    "bust": "fails insolvent",
    "bankrupt": "insolvent fails insolvency",
    "collapse": "fails insolvent",
    "refund": "reimbursement reimburse",
    "money back": "reimbursement compensation",
    "etf": "exchange-traded product etp",
    "etfs": "exchange-traded products etps",
    "etn": "exchange traded note cetn",
    "etns": "exchange traded notes cetns",
    "tax return": "self assessment",
    "scammed": "scam fraud",
    "hacked": "hack stolen",
    "licensed": "authorised registered licence",
    "legit": "authorised registered",
    "insured": "insurance protected",
    "fbar": "fincen form 114 foreign accounts",
    "atm": "kiosk",
    "atms": "kiosks",
    "yield": "interest rewards",
    "allowed": "regulated authorisation permitted",
    "permitted": "regulated authorisation",
    "legal": "regulated authorised lawful",
    "banned": "ban prohibited",
    "security": "securities digital commodity commodities",
    # paid to bring others in: the promotion rules' "refer a friend" incentive
    **dict.fromkeys(
        (
            "referral",
            "referrals",
            "refer my friends",
            "refer my mates",
            "mates to sign up",
            "friends to sign up",
            "sign up bonus",
            "sign-up bonus",
        ),
        "refer a friend bonus incentive",
    ),
    # a wallet the investor can no longer open: HMRC's lost private key and negligible value rules
    **dict.fromkeys(
        (
            "threw away",
            "thrown away",
            "chucked out",
            "binned",
            "old laptop",
            "hard drive",
            "seed phrase",
            "lost access",
            "lost my wallet",
            "forgot my password",
        ),
        "lost private key negligible value",
    ),
    # an employer paying staff in crypto: PAYE on readily convertible assets
    **dict.fromkeys(
        (
            "our devs",
            "our developers",
            "our staff",
            "our employees",
            "my employees",
            "my staff",
            "paid in crypto",
            "paid in bitcoin",
            "paid in usdc",
            "salary in crypto",
            "wages in crypto",
        ),
        "employer employees paye earnings readily convertible assets",
    ),
    "foreign income and gains": "fig",
    "fig": "foreign income and gains",
    "year mark": "long-term short-term holding period more than one year",
    # "is that short or long term?": the holding period, and where a sale is reported
    **dict.fromkeys(
        ("short or long term", "long or short term", "short term or long term", "long term or short term"),
        "long-term short-term more than one year holding period",
    ),
    **dict.fromkeys(
        ("what irs form", "which irs form", "what form does it go on", "which form does it go on", "what forms"),
        "form 8949 schedule d report",
    ),
    # choosing which units count as sold: the IRS's specific identification or first-in, first-out
    **dict.fromkeys(
        ("first-in-first-out", "first in first out", "first in, first out", "which lots", "tax lots"),
        "fifo specific identification units",
    ),
    # selling at a loss and buying back: the UK's matching rules decide what the loss is
    **dict.fromkeys(
        (
            "bought it back",
            "buy it back",
            "bought them back",
            "buy them back",
            "buy back",
            "bought back",
            "rebuy",
            "rebought",
            "re-buy",
            "re-bought",
        ),
        "30-day bed breakfasting",
    ),
}


_PHRASE_END = re.compile(r"[?!.,;:()]+(?=\s|$)")


def synonym_terms(text: str) -> list[str]:
    """Official wording for the investor's own words in text."""
    lowered = f" {_PHRASE_END.sub(' ', text.lower())} "  # "long term, and" ends a phrase too
    return terms(" ".join(v for k, v in SYNONYMS.items() if f" {k} " in lowered))


def expansion_terms(profile: Profile, group: str) -> list[str]:
    """The lexical expansion of a question's topics for one jurisdiction."""
    return terms(" ".join(EXPANSIONS.get((topic, group), "") for topic in profile.topics))


def _where(group: str, as_of: dt.date, statuses: list[str]) -> dict[str, Any]:
    day = _ord(as_of, 0)
    return {
        "$and": [
            {"jurisdiction": group},
            {"published_ord": {"$lte": day}},
            {"until_ord": {"$gt": day}},
            {"status": {"$in": statuses}},
        ]
    }


def groups_for(profile: Profile, jurisdictions: list[str] | None) -> list[str]:
    """The jurisdictions that each get their own quota of evidence."""
    wanted = [j for j in profile.jurisdictions if j in ("UK", "US")] or ["UK", "US"]
    if jurisdictions:
        allowed = {j.upper() for j in jurisdictions}
        wanted = [j for j in wanted if j in allowed] or [j for j in ("UK", "US") if j in allowed]
    return wanted


def quotas_for(profile: Profile, settings: RetrievalSettings, jurisdictions: list[str] | None) -> dict[str, int]:
    """How many evidence chunks each jurisdiction searched gets (UK, US, and INTL when it is wanted)."""
    quotas = {g: settings.quota for g in groups_for(profile, jurisdictions)}
    wants_intl = (
        profile.cross_border or "INTL" in profile.jurisdictions or not profile.jurisdictions or "aml" in profile.topics
    )
    if settings.intl_quota and wants_intl and (not jurisdictions or "INTL" in {j.upper() for j in jurisdictions}):
        # A question about international standards gets a full quota of them.
        quotas["INTL"] = settings.quota if "INTL" in profile.jurisdictions else settings.intl_quota
    return quotas


def open_rows(index: Index, settings: RetrievalSettings, as_of: dt.date) -> np.ndarray:
    """For every chunk row, whether its document may be cited on as_of (decided once per document, and
    remembered on the index for the last few days and status lists asked about)."""
    remembered: dict[tuple[dt.date, tuple[str, ...]], np.ndarray] = index.__dict__.setdefault("_open_rows", {})
    key = (as_of, tuple(settings.statuses))
    rows = remembered.get(key)
    if rows is None:
        rows = _open_rows(index, settings, as_of)
        if len(remembered) >= 8:
            remembered.clear()
        remembered[key] = rows
    return rows


def _open_rows(index: Index, settings: RetrievalSettings, as_of: dt.date) -> np.ndarray:
    open_documents = np.fromiter(
        (d.in_force_on(as_of) and d.status in settings.statuses for d in index.documents.values()),
        dtype=bool,
        count=len(index.documents),
    )
    return open_documents[index.chunk_document]


def retrieve(
    index: Index,
    query_vector: np.ndarray,
    query_text: str,
    profile: Profile,
    settings: RetrievalSettings,
    as_of: dt.date,
    jurisdictions: list[str] | None = None,
    timings: dict[str, float] | None = None,
) -> list[Evidence]:
    """Retrieve evidence for each jurisdiction involved, plus international sources."""
    timings = timings if timings is not None else {}
    timings["dense"] = timings["bm25"] = 0.0
    available = open_rows(index, settings, as_of)
    base_terms = terms(query_text) + synonym_terms(query_text)
    asked = question_similarity(index, query_vector) if settings.question_weight else {}
    started = time.perf_counter()
    similarities = dense_similarities(index, query_vector)
    _add_time(timings, "dense", started)
    started = time.perf_counter()
    # The base terms' BM25 scores once; each jurisdiction adds its own expansion terms to a copy.
    base_scores = index.lexical.scores(base_terms) if base_terms else None
    _add_time(timings, "bm25", started)
    evidence: list[Evidence] = []
    for group, quota in quotas_for(profile, settings, jurisdictions).items():
        rows = index.jurisdiction_rows[group]
        rows = rows[available[rows]] if len(rows) else rows
        if len(rows) == 0:
            continue
        search = _Search(index, query_vector, similarities, asked, settings, timings)
        ranked, leaders = search.ranked(
            rows, _where(group, as_of, settings.statuses), base_scores, expansion_terms(profile, group), profile
        )
        for row, score in select(index, ranked, quota, settings, leaders):
            chunk = index.chunks[row]
            evidence.append(
                Evidence(
                    chunk=chunk,
                    document=index.documents[chunk.doc_id],
                    section=index.sections[(chunk.doc_id, chunk.section_anchor)],
                    score=score,
                    dense_similarity=float(index.chunk_vectors[row] @ query_vector),
                    group=group,
                    question_similarity=asked.get((chunk.doc_id, chunk.section_anchor), 0.0),
                )
            )
    timings["dense"], timings["bm25"] = round(timings["dense"], 2), round(timings["bm25"], 2)
    return calibrate_groups(evidence, settings.group_calibration)


def calibrate_groups(evidence: list[Evidence], power: float) -> list[Evidence]:
    """Scale each jurisdiction's fused scores by how well its best chunk matches the question, relative to
    the best match of any jurisdiction searched, to the power `power` (0: unchanged).

    Reciprocal rank fusion runs per jurisdiction, so every jurisdiction's first chunk scores alike: without
    this, the weak best match of a side the question barely concerns ranks level with the strong one of the
    side it is about. A chunk's match is its dense similarity or, if higher, its section's closest investor
    question's. Within a jurisdiction the order and the ratios of scores stay as they were."""
    if not power or not evidence:
        return evidence
    best: dict[str, float] = {}
    for item in evidence:
        best[item.group] = max(best.get(item.group, 0.0), item.dense_similarity, item.question_similarity)
    top = max(best.values())
    if top <= 0:
        return evidence
    weight = {group: (max(match, 0.0) / top) ** power for group, match in best.items()}
    return [dataclasses.replace(item, score=item.score * weight[item.group]) for item in evidence]


# Above this many chunks the dense product is split between threads and the BM25 leaders are picked out
# without a full sort (below it, results are bit for bit those the evaluation figures were measured with).
LARGE = 10_000


def dense_similarities(index: Index, vector: np.ndarray) -> np.ndarray:
    """Every chunk's cosine similarity (unit vectors) to the query vector: the embedded dense search is
    exact. Empty for a remote (Chroma server) index.

    BLAS runs on one thread (`quiet_blas`). Over a large index the rows are split between threads of
    this process, each a one-thread product (numpy releases the GIL): at 100,000 chunks 6.0 ms against
    11.4 ms, the same figures bit for bit. BLAS's own threads would be as fast, but its workers then
    spin on both cores and the next encode took 90 to 120 ms instead of 20 to 30 ms."""
    if index.remote:
        return np.zeros(0, dtype=np.float32)
    vectors = index.chunk_vectors
    if len(vectors) <= LARGE:
        return vectors @ vector  # type: ignore[no-any-return]
    out = np.empty(len(vectors), dtype=np.result_type(vectors, vector))
    bounds = np.linspace(0, len(vectors), _workers() + 1).astype(int)
    blocks = [
        _pool().submit(np.dot, vectors[start:end], vector, out[start:end])
        for start, end in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    for block in blocks:
        block.result()
    return out


def _workers() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


_POOLS: dict[int, ThreadPoolExecutor] = {}


def _pool() -> ThreadPoolExecutor:
    """This process's threads for the dense product (a forked worker makes its own)."""
    pid = os.getpid()
    if pid not in _POOLS:
        _POOLS[pid] = ThreadPoolExecutor(max_workers=_workers(), thread_name_prefix="dense")
    return _POOLS[pid]


def _best(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k highest scores, best first (as np.argsort(-scores)[:k]; over many rows, the
    k best are picked out first instead of sorting every row)."""
    if len(scores) <= LARGE:
        return np.argsort(-scores)[:k]
    best = np.argpartition(-scores, k)[:k]
    return best[np.argsort(-scores[best])]


def _add_time(timings: dict[str, float], stage: str, started: float) -> None:
    timings[stage] = timings.get(stage, 0.0) + (time.perf_counter() - started) * 1000


class _Search:
    """One query's searches within one jurisdiction's chunk rows: dense, BM25 and investor questions, fused."""

    def __init__(
        self,
        index: Index,
        query_vector: np.ndarray,
        similarities: np.ndarray,
        asked: dict[tuple[str, str], float],
        settings: RetrievalSettings,
        timings: dict[str, float],
    ) -> None:
        self.index, self.query_vector, self.similarities = index, query_vector, similarities
        self.asked, self.settings, self.timings = asked, settings, timings

    def ranked(
        self,
        rows: np.ndarray,
        where: dict[str, Any],
        base_scores: np.ndarray | None,
        extra_terms: list[str],
        profile: Profile,
    ) -> tuple[list[tuple[int, float]], list[int]]:
        """Rows with their fused scores, best first, and each retriever's best `keep_top_per_retriever` rows.
        The lexical scores are `base_scores` (the question's terms, None for none) plus `extra_terms`'."""
        settings, index = self.settings, self.index
        started = time.perf_counter()
        dense = index.dense(self.query_vector, min(settings.dense_k, len(rows)), rows, where, self.similarities)
        _add_time(self.timings, "dense", started)
        started = time.perf_counter()
        if extra_terms:
            bm25_scores = index.lexical.scores(extra_terms, start=base_scores)
        else:
            bm25_scores = base_scores if base_scores is not None else np.zeros(len(index.chunks))
        group_scores = bm25_scores[rows]
        order = _best(group_scores, settings.bm25_k)
        lexical = [(int(rows[i]), float(group_scores[i])) for i in order if group_scores[i] > 0]
        _add_time(self.timings, "bm25", started)
        rankings = rankings_of(dense, lexical, question_ranking(index, self.asked, rows, settings.dense_k))
        fused = fuse(rankings, [settings.dense_weight, settings.bm25_weight, settings.question_weight], settings.rrf_k)
        boost_topics(index, fused, profile.topics, settings.rrf_k)
        ranked = sorted(fused.items(), key=lambda item: -item[1])
        # The best hits of each retriever are kept even when the other retriever missed them
        # (reciprocal rank fusion alone would rank them below chunks both found moderately).
        leaders = list(dict.fromkeys(row for ranking in rankings for row in ranking[: settings.keep_top_per_retriever]))
        return ranked, leaders


def boost_topics(index: Index, fused: dict[int, float], topics: list[str], rrf_k: int) -> None:
    """Raise the fused score of chunks whose document is about the question's topics (in place)."""
    wanted = set(topics)
    if not wanted:
        return
    for row in fused:
        shared = wanted & set(index.documents[index.chunks[row].doc_id].topics)
        if shared:
            fused[row] += 0.2 / rrf_k * len(shared) / len(wanted)


def select(
    index: Index,
    ranked: list[tuple[int, float]],
    quota: int,
    settings: RetrievalSettings,
    leaders: Sequence[int] = (),
) -> list[tuple[int, float]]:
    """The first `quota` of the ranked rows, at most `max_chunks_per_document` from one document, with each
    retriever's best row (`leaders`) kept even when reciprocal rank fusion ranks it lower (it would rank
    a chunk only one retriever found below chunks both found moderately). The leaders come first but do not
    take a document's places from its best fused chunks: a question's closest section by fused rank (the
    "Backing assets" section for "what was decided on backing assets?") is never pushed out by another
    section of the same document that one retriever alone put first."""
    per_doc: dict[str, int] = {}
    kept: list[tuple[int, float]] = []
    for row, score in ranked:
        doc_id = index.chunks[row].doc_id
        if per_doc.get(doc_id, 0) >= settings.max_chunks_per_document:
            continue
        per_doc[doc_id] = per_doc.get(doc_id, 0) + 1
        kept.append((row, score))
        if len(kept) >= quota:
            break
    scores = dict(ranked)
    taken = {row for row, _ in kept}
    missing = [row for row in leaders if row in scores and row not in taken]
    if missing:
        room = max(0, quota - len(missing))
        kept = [(row, scores[row]) for row in missing] + kept[:room]
    else:
        order = {row: position for position, row in enumerate(leaders)}
        kept.sort(key=lambda item: order.get(item[0], len(order)))
    return kept


def question_similarity(index: Index, query_vector: np.ndarray) -> dict[tuple[str, str], float]:
    """For each section with investor questions, the cosine similarity of its closest one to the query."""
    if not len(index.question_vectors):
        return {}
    similarities = index.question_vectors @ query_vector
    best: dict[tuple[str, str], float] = {}
    for key, similarity in zip(index.question_sections, similarities.tolist(), strict=True):
        if similarity > best.get(key, -1.0):
            best[key] = similarity
    return best


def question_ranking(
    index: Index, asked: dict[tuple[str, str], float], rows: np.ndarray, k: int
) -> list[tuple[int, float]]:
    """Chunk rows (among rows) ranked by how close their section's investor questions are to the query
    (`asked`: question_similarity's result, computed once per query)."""
    allowed = np.zeros(len(index.chunks), dtype=bool)
    allowed[rows] = True
    ranked: list[tuple[int, float]] = []
    for key, similarity in sorted(asked.items(), key=lambda item: -item[1]):
        ranked.extend((row, similarity) for row in index.section_rows.get(key, []) if allowed[row])
        if len(ranked) >= k:
            break
    return ranked[:k]


def rankings_of(*scored: list[tuple[int, float]]) -> list[list[int]]:
    """The row order of each (row, score) list."""
    return [[row for row, _ in ranking] for ranking in scored]


def fuse(rankings: list[list[int]], weights: list[float], k: int) -> dict[int, float]:
    """Weighted reciprocal rank fusion of several rankings of the same items."""
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank + 1)
    return scores
