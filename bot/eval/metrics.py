"""The metrics `bot eval` reports, and the per-question scoring behind them.

`METRICS` is the table of every reported metric (docs/evaluation.md defines each; a docs test keeps
the two in step). `score_question` measures one answer, one function per metric family, and lists
the reasons the question fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.eval.matching import contains, supports
from bot.eval.questions import Question
from bot.types import PROPOSAL_STATUSES, Answer, Citation, EvidenceRef, answer_body

DEFAULT_K = 5

# Metric name -> (label, higher is better, format). Order is the report's order.
METRICS: dict[str, tuple[str, bool, str]] = {
    "recall_at_k": ("Retrieval recall@k", True, "ratio"),
    "mrr": ("Retrieval MRR", True, "ratio"),
    "citation_precision": ("Citation precision", True, "ratio"),
    "citation_precision_expected": ("Citation precision (expected sources only)", True, "ratio"),
    "citation_recall": ("Citation recall", True, "ratio"),
    "facts_recall": ("Facts mentioned (must_mention)", True, "ratio"),
    "must_not_say_hits": ("must_not_say hits", False, "count"),
    "kind_accuracy": ("Kind accuracy", True, "ratio"),
    "jurisdiction_coverage": ("Jurisdiction coverage (citations)", True, "ratio"),
    "evidence_jurisdiction_coverage": ("Jurisdiction coverage (evidence)", True, "ratio"),
    "groundedness": ("Groundedness", True, "ratio"),
    "jurisdiction_attribution": ("Jurisdiction attribution", True, "ratio"),
    "temporal_correctness": ("Temporal correctness", True, "ratio"),
    "no_guidance_precision": ("Abstention precision (no_guidance)", True, "ratio"),
    "no_guidance_recall": ("Abstention recall (no_guidance)", True, "ratio"),
    "refusal_precision": ("Abstention precision (refusal)", True, "ratio"),
    "refusal_recall": ("Abstention recall (refusal)", True, "ratio"),
    "pass_rate": ("Questions passing every check", True, "ratio"),
    "llm_answer_share": ("LLM answers kept (no fallback to extractive)", True, "ratio"),
    "llm_sentences_kept": ("LLM sentences passing citation verification", True, "ratio"),
    "latency_p50_ms": ("Latency p50", False, "ms"),
    "latency_p95_ms": ("Latency p95", False, "ms"),
    "latency_max_ms": ("Latency max", False, "ms"),
    "throughput_qps": ("Throughput", True, "qps"),
}
# Short names accepted by --fail-under.
ALIASES = {
    "recall": "recall_at_k",
    "retrieval_recall": "recall_at_k",
    "facts": "facts_recall",
    "must_mention": "facts_recall",
    "must_not_say": "must_not_say_hits",
    "coverage": "jurisdiction_coverage",
    "attribution": "jurisdiction_attribution",
    "temporal": "temporal_correctness",
    "grounded": "groundedness",
    "kind": "kind_accuracy",
    "pass": "pass_rate",
}


@dataclass
class QuestionScore:
    """Every measurement of one question. None: the question does not measure it (see docs/evaluation.md)."""

    id: str
    category: str
    jurisdictions: list[str]  # the expected ones
    expected_kind: str | None
    error: str | None
    expected_sources: list[str]
    must_mention: list[str]
    must_not_say: list[str]
    reasons: list[str] = field(default_factory=list)  # why it fails; empty: it passes
    kind: str | None = None
    latency_ms: float | None = None
    kind_correct: bool | None = None
    # an LLM backend wrote (or tried to write) the answer
    llm_used: bool | None = None
    llm_written: int | None = None
    llm_kept: int | None = None
    # retrieval
    evidence_docs: list[str] = field(default_factory=list)
    recall_at_k: float | None = None
    mrr: float | None = None
    # citations
    cited_docs: list[str] = field(default_factory=list)
    citations_used: int = 0
    citations_good: int = 0
    citations_expected: int | None = None
    citation_recall: float | None = None
    # facts
    facts_total: int = 0
    facts_found: int = 0
    must_not_say_hits: int = 0
    # jurisdictions
    jurisdiction_covered: bool | None = None
    evidence_jurisdiction_covered: bool | None = None
    sentences: int = 0
    sentences_grounded: int = 0
    sentences_attributable: int = 0
    sentences_attributed: int = 0
    # time
    stale_citations: list[str] = field(default_factory=list)
    unlabelled_proposals: list[str] = field(default_factory=list)
    temporal_correct: bool | None = None
    # for the report
    question: str = ""
    source: str | None = None
    answer_excerpt: str | None = None


def ranked_evidence_docs(answer: Answer) -> list[str]:
    """Unique document ids of the evidence, best fused score first."""

    def rank(pair: tuple[int, EvidenceRef]) -> tuple[float, int]:
        return (-pair[1].score, pair[0])

    items = sorted(enumerate(answer.evidence), key=rank)
    docs: list[str] = []
    for _, item in items:
        doc = item.doc_id
        if doc not in docs:
            docs.append(doc)
    return docs


def _answers_expected(question: Question) -> bool:
    return question.expected_kind in (None, "answer")


def score_llm(score: QuestionScore, answer: Answer) -> None:
    """`llm_answer_share`, `llm_sentences_kept`: what an LLM backend wrote and what survived."""
    diagnostics = answer.diagnostics
    if diagnostics.sentences_written is not None:
        score.llm_used = diagnostics.composer == "llm"
        score.llm_written = diagnostics.sentences_written
        score.llm_kept = diagnostics.sentences_kept or 0


def score_kind(score: QuestionScore, question: Question, answer: Answer) -> None:
    """`kind_accuracy` and the abstention metrics: the answer's kind against `expected_kind`."""
    if question.expected_kind:
        score.kind_correct = answer.kind == question.expected_kind
        if not score.kind_correct:
            score.reasons.append(f"kind: expected {question.expected_kind}, got {answer.kind}")


def score_retrieval(score: QuestionScore, question: Question, answer: Answer, k: int, expected: list[str]) -> None:
    """`recall_at_k`, `mrr`: the expected sources among the ranked evidence documents."""
    docs = ranked_evidence_docs(answer)
    score.evidence_docs = docs[:k]
    if expected and _answers_expected(question):
        top = docs[:k]
        score.recall_at_k = len(set(expected) & set(top)) / len(expected)
        rank = next((i for i, doc in enumerate(docs, start=1) if doc in expected), None)
        score.mrr = 1.0 / rank if rank else 0.0
        if score.recall_at_k == 0:
            score.reasons.append(
                f"no expected source in the top {k} evidence documents (expected {', '.join(expected)})"
            )


def used_citations(answer: Answer) -> dict[int, Citation]:
    """The citations referred to by at least one sentence, in order of first use."""
    used_ids = [c for sentences in answer.sections.values() for s in sentences for c in s.citations]
    return {cid: answer.citations[cid] for cid in dict.fromkeys(used_ids) if cid in answer.citations}


def score_citations(
    score: QuestionScore, question: Question, answer: Answer, used: dict[int, Citation], expected: list[str]
) -> None:
    """`citation_precision`, `citation_precision_expected`, `citation_recall`."""
    cited_docs = list(dict.fromkeys(c.doc_id for c in used.values()))
    score.cited_docs = cited_docs
    sentences_by_citation: dict[int, list[str]] = {}
    for sentences in answer.sections.values():
        for sentence in sentences:
            for cid in sentence.citations:
                sentences_by_citation.setdefault(cid, []).append(sentence.text)
    good = 0
    for cid, citation in used.items():
        if citation.doc_id in expected or all(supports(t, citation.quote) for t in sentences_by_citation[cid]):
            good += 1
    score.citations_used = len(used)
    score.citations_good = good
    if expected:
        score.citations_expected = sum(1 for c in used.values() if c.doc_id in expected)
    if expected and _answers_expected(question) and answer.kind == "answer":
        score.citation_recall = len(set(expected) & set(cited_docs)) / len(expected)
        if score.citation_recall == 0:
            score.reasons.append("no expected source cited")


def score_facts(score: QuestionScore, question: Question, body: str) -> None:
    """`facts_recall`, `must_not_say_hits`: phrases found in the answer text."""
    mentions = question.must_mention
    found = [m for m in mentions if contains(body, m)]
    score.facts_total, score.facts_found = len(mentions), len(found)
    missing = [m for m in mentions if m not in found]
    if missing:
        score.reasons.append("missing facts: " + "; ".join(repr(m) for m in missing))
    said = [m for m in question.must_not_say if contains(body, m)]
    score.must_not_say_hits = len(said)
    if said:
        score.reasons.append("said what it must not: " + "; ".join(repr(m) for m in said))


def score_coverage(
    score: QuestionScore, question: Question, answer: Answer, used: dict[int, Citation], expected_j: list[str]
) -> None:
    """`jurisdiction_coverage`, `evidence_jurisdiction_coverage` (more than one expected jurisdiction)."""
    if len(expected_j) > 1 and _answers_expected(question):
        cited_j = {c.jurisdiction for c in used.values()}
        evidence_j = {e.group for e in answer.evidence}
        missing_j = [j for j in expected_j if j not in cited_j]
        score.jurisdiction_covered = not missing_j
        score.evidence_jurisdiction_covered = all(j in evidence_j for j in expected_j)
        if missing_j:
            score.reasons.append("no citation from " + ", ".join(missing_j))


def score_grounding(score: QuestionScore, answer: Answer) -> None:
    """`groundedness`, `jurisdiction_attribution`, per sentence."""
    grounded = total = attributed = attributable = 0
    misattributed: list[str] = []
    for section, sentences in answer.sections.items():
        for sentence in sentences:
            total += 1
            citations = [answer.citations[c] for c in sentence.citations if c in answer.citations]
            if any(supports(sentence.text, c.quote) for c in citations):
                grounded += 1
            if section in ("UK", "US"):
                attributable += 1
                if any(c.jurisdiction == section for c in citations):
                    attributed += 1
                else:
                    misattributed.append(section)
    score.sentences, score.sentences_grounded = total, grounded
    score.sentences_attributable, score.sentences_attributed = attributable, attributed
    if grounded < total:
        score.reasons.append(f"{total - grounded} of {total} sentences not supported by their citations")
    if misattributed:
        score.reasons.append(
            f"{len(misattributed)} sentences under {'/'.join(sorted(set(misattributed)))} "
            "headings cite no source of that jurisdiction"
        )


def score_temporal(score: QuestionScore, answer: Answer, used: dict[int, Citation], body: str) -> None:
    """`temporal_correctness`: nothing out of force cited as current, every proposal labelled."""
    if not used:
        return
    stale, unlabelled = [], []
    lines = body.splitlines()
    for cid, citation in used.items():
        out_of_force = citation.until is not None and citation.until <= answer.as_of
        if (
            citation.status == "withdrawn"
            or out_of_force
            or (citation.status == "superseded" and citation.until is None)
        ):
            stale.append(citation.doc_id)
        if citation.status in PROPOSAL_STATUSES:
            marked = [line for line in lines if f"[{cid}]" in line]
            if not marked or not all("proposal" in line.lower() for line in marked):
                unlabelled.append(citation.doc_id)
    score.stale_citations, score.unlabelled_proposals = stale, unlabelled
    score.temporal_correct = not stale and not unlabelled
    if stale:
        score.reasons.append("cites as current: " + ", ".join(stale))
    if unlabelled:
        score.reasons.append("proposal not labelled: " + ", ".join(unlabelled))


def score_question(
    question: Question, answer: Answer | None, error: str | None = None, k: int = DEFAULT_K
) -> QuestionScore:
    """All per-question measurements, plus the reasons the question fails (empty: it passes)."""
    expected_sources = list(dict.fromkeys(question.expected_sources))
    expected_j: list[str] = list(dict.fromkeys(question.expected_jurisdictions))
    score = QuestionScore(
        id=question.id,
        category=question.category or "uncategorised",
        jurisdictions=expected_j,
        expected_kind=question.expected_kind,
        error=error,
        expected_sources=expected_sources,
        must_mention=list(question.must_mention),
        must_not_say=list(question.must_not_say),
    )
    if answer is None:
        score.reasons.append(f"error: {error or 'no answer'}")
        if question.expected_kind:
            score.kind_correct = False
        return score
    score.kind = answer.kind
    score.latency_ms = float(answer.timings.get("total", 0.0))
    score_llm(score, answer)
    score_kind(score, question, answer)  # the order of the calls is the order of the reasons
    score_retrieval(score, question, answer, k, expected_sources)
    body = answer_body(answer)
    used = used_citations(answer)
    score_citations(score, question, answer, used, expected_sources)
    score_facts(score, question, body)
    score_coverage(score, question, answer, used, expected_j)
    score_grounding(score, answer)
    score_temporal(score, answer, used, body)
    return score
