"""`bot eval`: run the bot over a question set, score the answers, write a report, gate CI.

The metrics are defined in eval/README-metrics.md; the functions below follow those
definitions exactly (`score_question` per question, `aggregate` over a set of questions).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import math
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from bot.text import terms
from bot.types import Answer, answer_body

KINDS = ("answer", "refusal", "no_guidance")
JURISDICTIONS = ("UK", "US", "INTL")
LIST_FIELDS = (
    "expected_jurisdictions",
    "expected_sources",
    "must_mention",
    "must_not_say",
    "history",
)
KNOWN_FIELDS = (
    "id",
    "question",
    "expected_kind",
    "category",
    "as_of",
    "jurisdictions",
    *LIST_FIELDS,
)
DEFAULT_K = 5
SUPPORT_TERM_SHARE = 0.8  # a sentence is supported when 80% of its terms are in the cited quote
STALE_STATUSES = ("superseded", "withdrawn")
PROPOSAL_STATUSES = ("proposed", "consultation")

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
RATIO_METRICS = [name for name, (_, _, fmt) in METRICS.items() if fmt == "ratio"]


# ---------------------------------------------------------------------------------------------
# Input


@dataclass
class Problem:
    """A question line that could not be read; it is skipped."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def _as_list(value: Any, name: str) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                place = f"{exc.msg} at character {exc.pos + 1} of the cell"
                raise ValueError(f"'{name}' is not a valid JSON list ({place})") from exc
        else:  # CSV cells: "UK|US" or "UK;US"
            return [part.strip() for part in re.split(r"[|;]", text) if part.strip()]
    if not isinstance(value, list):
        raise ValueError(f"'{name}' must be a list")
    return value


def normalise_record(raw: Any, source: str, line: int) -> dict[str, Any]:
    """Validate one question record; raises ValueError with a readable message."""
    if not isinstance(raw, dict):
        raise ValueError("the line is not an object with a 'question' field")
    question = raw.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ValueError("'question' is missing or empty")
    record: dict[str, Any] = {"question": question.strip()}
    for name in LIST_FIELDS:
        items = _as_list(raw.get(name), name)
        if name == "history":
            record[name] = items
            continue
        if not all(isinstance(item, str) for item in items):
            raise ValueError(f"'{name}' must be a list of strings")
        record[name] = [item.strip() for item in items if item.strip()]
    record["expected_jurisdictions"] = [j.upper() for j in record["expected_jurisdictions"]]
    bad = [j for j in record["expected_jurisdictions"] if j not in JURISDICTIONS]
    if bad:
        raise ValueError(f"unknown expected_jurisdictions {bad}; use UK, US or INTL")
    kind = raw.get("expected_kind") or None
    if kind is not None and kind not in KINDS:
        raise ValueError(f"expected_kind '{kind}' is not one of {', '.join(KINDS)}")
    record["expected_kind"] = kind
    record["category"] = str(raw.get("category") or "uncategorised")
    as_of = raw.get("as_of") or None
    if as_of is not None:
        try:
            dt.date.fromisoformat(str(as_of))
        except ValueError as exc:
            raise ValueError(f"'as_of' must be a date YYYY-MM-DD, not {as_of!r}") from exc
    record["as_of"] = as_of
    jurisdictions = _as_list(raw.get("jurisdictions"), "jurisdictions")
    record["jurisdictions"] = [str(j).upper() for j in jurisdictions] or None
    identifier = raw.get("id")
    record["id"] = str(identifier).strip() if identifier not in (None, "") else f"{Path(source).stem}:{line}"
    record["source"] = f"{source}:{line}"
    return record


def _question_files(paths: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in (".jsonl", ".csv")))
        else:
            files.append(path)
    return files


def json_error_place(line: str, exc: json.JSONDecodeError) -> str:
    """Where on its line a JSON error is: json counts the line's newline, so a line cut short
    would otherwise be blamed on "line 2, column 1"."""
    content = line.rstrip("\r\n")
    if exc.pos >= len(content):
        return f"{exc.msg} at the end of the line, column {len(content) + 1}: is the line cut short?"
    return f"{exc.msg} at column {exc.pos + 1}"


def indexed_source_ids(index_path: Path) -> set[str] | None:
    """The document ids of the current index build (its manifest), or None without an index."""
    pointer = index_path / "current"  # bot.index.CURRENT; read here without loading the index
    if not pointer.is_file():
        return None
    manifest = index_path / "builds" / pointer.read_text().strip() / "manifest.json"
    try:
        documents: dict[str, str] = json.loads(manifest.read_text(encoding="utf-8"))["documents"]
    except (OSError, ValueError, KeyError):
        return None
    return set(documents)


def unknown_sources(records: Sequence[dict[str, Any]], known: set[str]) -> list[Problem]:
    """Questions whose expected_sources name documents that are not in the index (scored as 0% recall)."""
    problems = []
    for record in records:
        missing = [doc for doc in record["expected_sources"] if doc not in known]
        if missing:
            path, _, line = record["source"].rpartition(":")
            problems.append(
                Problem(
                    path,
                    int(line),
                    f"expected_sources {', '.join(repr(m) for m in missing)} not in the index: "
                    "a typo, or a document to add (`bot sources` lists the ids); scored as missed until then",
                )
            )
    return problems


def load_questions(paths: Sequence[Path | str]) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Read JSONL/CSV question files (or folders of them); bad lines become problems, not errors."""
    records: list[dict[str, Any]] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for path in _question_files([Path(p) for p in paths]):
        name = str(path)
        if not path.is_file():
            problems.append(Problem(name, 0, "no such file"))
            continue
        rows: list[tuple[int, Any]] = []
        with path.open(encoding="utf-8-sig", newline="") as handle:
            if path.suffix.lower() == ".csv":
                reader = csv.DictReader(handle)
                for row in reader:
                    rows.append((reader.line_num, {k.strip(): v for k, v in row.items() if k}))
            else:
                for number, text in enumerate(handle, start=1):
                    if not text.strip() or text.lstrip().startswith("//"):
                        continue
                    try:
                        rows.append((number, json.loads(text)))
                    except json.JSONDecodeError as exc:
                        problems.append(Problem(name, number, f"not valid JSON ({json_error_place(text, exc)})"))
        for number, raw in rows:
            try:
                record = normalise_record(raw, name, number)
            except (ValueError, json.JSONDecodeError) as exc:
                problems.append(Problem(name, number, str(exc)))
                continue
            if record["id"] in seen:
                problems.append(
                    Problem(
                        name,
                        number,
                        f"duplicate id '{record['id']}' (first at {seen[record['id']]})",
                    )
                )
                continue
            seen[record["id"]] = record["source"]
            records.append(record)
    return records, problems


# ---------------------------------------------------------------------------------------------
# Text helpers

_QUOTES = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "′": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "″": '"',
        "–": "-",
        "—": "-",
        "‑": "-",
        "\u00a0": " ",
        "\u202f": " ",
    }
)


def normalise(text: str) -> str:
    """Lower case; plain quotes and dashes; no thousands commas; hyphens as spaces; one space."""
    text = text.translate(_QUOTES).lower()
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # £85,000 -> £85000
    text = re.sub(r"\b(us\$|usd ?)(?=\d)", "$", text)  # US$5 / USD 5 -> $5
    text = re.sub(r"\bgbp ?(?=\d)", "£", text)
    text = re.sub(r"[*_`]+", "", text)  # Markdown emphasis
    text = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", text)  # cooling-off == cooling off
    return re.sub(r"\s+", " ", text).strip()


_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?{_MONTH},? (\d{{4}})\b")
_MONTH_DAY_YEAR = re.compile(rf"\b{_MONTH} (\d{{1,2}})(?:st|nd|rd|th)?,? (\d{{4}})\b")
_MONTH_DAY = re.compile(rf"\b{_MONTH} (\d{{1,2}})(?:st|nd|rd|th)?\b(?!,? \d{{4}})")


def _month_number(name: str) -> int:
    return next(n for n, month in enumerate(_MONTHS, start=1) if month.startswith(name[:3]))


def canonical_dates(text: str) -> str:
    """Whole dates in any common style as ISO (18 January 2027, January 18, 2027 -> 2027-01-18);
    'January 31' as '31 january'. Applied to normalised text."""
    text = _DAY_MONTH_YEAR.sub(lambda m: f"{m[3]}-{_month_number(m[2]):02d}-{int(m[1]):02d}", text)
    text = _MONTH_DAY_YEAR.sub(lambda m: f"{m[3]}-{_month_number(m[1]):02d}-{int(m[2]):02d}", text)
    return _MONTH_DAY.sub(lambda m: f"{int(m[2])} {_MONTHS[_month_number(m[1]) - 1]}", text)


def contains(haystack: str, needle: str) -> bool:
    """Case/space/quote-insensitive phrase match on word boundaries; dates match in any style, and
    'A | B' matches either alternative."""
    alternatives = [part for part in needle.split(" | ") if part.strip()]
    if len(alternatives) > 1:
        return any(contains(haystack, part) for part in alternatives)
    wanted = canonical_dates(normalise(needle))
    if not wanted:
        return False
    pattern = (r"(?<![a-z0-9])(?<!\d[.,])" if wanted[0].isalnum() else "") + re.escape(wanted)
    pattern += r"(?![a-z0-9]|[.,]\d)" if wanted[-1].isalnum() else ""
    return re.search(pattern, canonical_dates(normalise(haystack))) is not None


VALIDATION_SHARE = 0.3  # of the development questions, held out from tuning (by a hash of the id)


def split_of(question_id: str) -> str:
    """'validation' or 'tune': a stable split of the development set by a hash of the question's id."""
    digest = int(hashlib.sha256(question_id.encode("utf-8")).hexdigest()[:8], 16)
    return "validation" if digest / 0xFFFFFFFF < VALIDATION_SHARE else "tune"


def supports(sentence: str, quote: str) -> bool:
    """The quote supports the sentence: it contains it, or holds 80% of its content terms."""
    said, quoted = normalise(sentence).rstrip(". "), normalise(quote)
    if said and said in quoted:
        return True
    wanted = set(terms(sentence))
    if not wanted:
        return False
    return len(wanted & set(terms(quote))) / len(wanted) >= SUPPORT_TERM_SHARE


def ranked_evidence_docs(answer: Answer) -> list[str]:
    """Unique document ids of the evidence, best fused score first."""

    def rank(pair: tuple[int, dict[str, Any]]) -> tuple[float, int]:
        return (-float(pair[1].get("score") or 0.0), pair[0])  # type: ignore[arg-type]

    items = sorted(enumerate(answer.evidence), key=rank)
    docs: list[str] = []
    for _, item in items:
        doc = str(item.get("doc_id"))
        if doc not in docs:
            docs.append(doc)
    return docs


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (share in 0..1)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


# ---------------------------------------------------------------------------------------------
# Per-question scoring


def score_question(
    record: dict[str, Any], answer: Answer | None, error: str | None = None, k: int = DEFAULT_K
) -> dict[str, Any]:
    """All per-question measurements, plus the reasons the question fails (empty: it passes)."""
    expected_kind = record.get("expected_kind")
    expected_sources = list(dict.fromkeys(record.get("expected_sources") or []))
    expected_j = list(dict.fromkeys(record.get("expected_jurisdictions") or []))
    result: dict[str, Any] = {
        "id": record["id"],
        "category": record.get("category") or "uncategorised",
        "jurisdictions": expected_j,
        "expected_kind": expected_kind,
        "kind": None,
        "error": error,
        "expected_sources": expected_sources,
        "must_mention": list(record.get("must_mention") or []),
        "must_not_say": list(record.get("must_not_say") or []),
        "reasons": [],
    }
    reasons: list[str] = result["reasons"]
    if answer is None:
        reasons.append(f"error: {error or 'no answer'}")
        result["latency_ms"] = None
        if expected_kind:
            result["kind_correct"] = False
        return result

    result["kind"] = answer.kind
    result["latency_ms"] = float(answer.timings.get("total", 0.0))
    diagnostics = answer.diagnostics or {}
    if "sentences_written" in diagnostics:  # an LLM backend wrote (or tried to write) this answer
        result["llm_used"] = diagnostics.get("composer") == "llm"
        result["llm_written"] = int(diagnostics["sentences_written"])
        result["llm_kept"] = int(diagnostics.get("sentences_kept", 0))
    if expected_kind:
        result["kind_correct"] = answer.kind == expected_kind
        if not result["kind_correct"]:
            reasons.append(f"kind: expected {expected_kind}, got {answer.kind}")

    # retrieval
    docs = ranked_evidence_docs(answer)
    result["evidence_docs"] = docs[:k]
    if expected_sources and expected_kind in (None, "answer"):
        top = docs[:k]
        result["recall_at_k"] = len(set(expected_sources) & set(top)) / len(expected_sources)
        rank = next((i for i, doc in enumerate(docs, start=1) if doc in expected_sources), None)
        result["mrr"] = 1.0 / rank if rank else 0.0
        if result["recall_at_k"] == 0:
            reasons.append(
                f"no expected source in the top {k} evidence documents (expected {', '.join(expected_sources)})"
            )

    # citations actually used by sentences
    body = answer_body(answer)
    used_ids = [c for sentences in answer.sections.values() for s in sentences for c in s.citations]
    used = {cid: answer.citations[cid] for cid in dict.fromkeys(used_ids) if cid in answer.citations}
    cited_docs = list(dict.fromkeys(c.doc_id for c in used.values()))
    result["cited_docs"] = cited_docs
    sentences_by_citation: dict[int, list[str]] = {}
    for sentences in answer.sections.values():
        for sentence in sentences:
            for cid in sentence.citations:
                sentences_by_citation.setdefault(cid, []).append(sentence.text)
    good = 0
    for cid, citation in used.items():
        if citation.doc_id in expected_sources or all(supports(t, citation.quote) for t in sentences_by_citation[cid]):
            good += 1
    result["citations_used"] = len(used)
    result["citations_good"] = good
    if expected_sources:
        result["citations_expected"] = sum(1 for c in used.values() if c.doc_id in expected_sources)
    if expected_sources and expected_kind in (None, "answer") and answer.kind == "answer":
        result["citation_recall"] = len(set(expected_sources) & set(cited_docs)) / len(expected_sources)
        if result["citation_recall"] == 0:
            reasons.append("no expected source cited")

    # facts
    mentions = record.get("must_mention") or []
    found = [m for m in mentions if contains(body, m)]
    result["facts_total"], result["facts_found"] = len(mentions), len(found)
    missing = [m for m in mentions if m not in found]
    if missing:
        reasons.append("missing facts: " + "; ".join(repr(m) for m in missing))
    said = [m for m in (record.get("must_not_say") or []) if contains(body, m)]
    result["must_not_say_hits"] = len(said)
    if said:
        reasons.append("said what it must not: " + "; ".join(repr(m) for m in said))

    # jurisdiction coverage (questions with more than one expected jurisdiction, answered)
    if len(expected_j) > 1 and expected_kind in (None, "answer"):
        cited_j = {c.jurisdiction for c in used.values()}
        evidence_j = {str(e.get("group")) for e in answer.evidence}
        missing_j = [j for j in expected_j if j not in cited_j]
        result["jurisdiction_covered"] = not missing_j
        result["evidence_jurisdiction_covered"] = all(j in evidence_j for j in expected_j)
        if missing_j:
            reasons.append("no citation from " + ", ".join(missing_j))

    # groundedness and attribution, per sentence
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
    result["sentences"], result["sentences_grounded"] = total, grounded
    result["sentences_attributable"], result["sentences_attributed"] = attributable, attributed
    if grounded < total:
        reasons.append(f"{total - grounded} of {total} sentences not supported by their citations")
    if misattributed:
        reasons.append(
            f"{len(misattributed)} sentences under {'/'.join(sorted(set(misattributed)))} "
            "headings cite no source of that jurisdiction"
        )

    # temporal correctness
    if used:
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
        result["stale_citations"], result["unlabelled_proposals"] = stale, unlabelled
        result["temporal_correct"] = not stale and not unlabelled
        if stale:
            reasons.append("cites as current: " + ", ".join(stale))
        if unlabelled:
            reasons.append("proposal not labelled: " + ", ".join(unlabelled))
    return result


# ---------------------------------------------------------------------------------------------
# Aggregation


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None


def _share(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def aggregate(
    results: Sequence[dict[str, Any]],
    wall_seconds: float | None = None,
    computed: int | None = None,
) -> dict[str, Any]:
    """The metrics over scored questions (None where no question measures a metric)."""
    r = results
    m: dict[str, Any] = {"questions": len(r), "errors": sum(1 for x in r if x.get("error"))}
    m["recall_at_k"] = _mean(x["recall_at_k"] for x in r if "recall_at_k" in x)
    m["mrr"] = _mean(x["mrr"] for x in r if "mrr" in x)
    m["citation_precision"] = _share(
        sum(x.get("citations_good", 0) for x in r), sum(x.get("citations_used", 0) for x in r)
    )
    with_expected = [x for x in r if "citations_expected" in x]
    m["citation_precision_expected"] = _share(
        sum(x["citations_expected"] for x in with_expected),
        sum(x["citations_used"] for x in with_expected),
    )
    m["citation_recall"] = _mean(x["citation_recall"] for x in r if "citation_recall" in x)
    m["facts_recall"] = _share(sum(x.get("facts_found", 0) for x in r), sum(x.get("facts_total", 0) for x in r))
    m["must_not_say_hits"] = sum(x.get("must_not_say_hits", 0) for x in r)
    m["kind_accuracy"] = _mean(1.0 if x["kind_correct"] else 0.0 for x in r if "kind_correct" in x)
    m["jurisdiction_coverage"] = _mean(
        1.0 if x["jurisdiction_covered"] else 0.0 for x in r if "jurisdiction_covered" in x
    )
    m["evidence_jurisdiction_coverage"] = _mean(
        1.0 if x["evidence_jurisdiction_covered"] else 0.0 for x in r if "evidence_jurisdiction_covered" in x
    )
    m["groundedness"] = _share(sum(x.get("sentences_grounded", 0) for x in r), sum(x.get("sentences", 0) for x in r))
    m["jurisdiction_attribution"] = _share(
        sum(x.get("sentences_attributed", 0) for x in r),
        sum(x.get("sentences_attributable", 0) for x in r),
    )
    m["temporal_correctness"] = _mean(1.0 if x["temporal_correct"] else 0.0 for x in r if "temporal_correct" in x)
    for kind in ("no_guidance", "refusal"):
        labelled = [x for x in r if x.get("expected_kind")]
        predicted = [x for x in labelled if x.get("kind") == kind]
        expected = [x for x in labelled if x["expected_kind"] == kind]
        hits = sum(1 for x in predicted if x["expected_kind"] == kind)
        m[f"{kind}_precision"] = _share(hits, len(predicted))
        m[f"{kind}_recall"] = _share(hits, len(expected))
    m["pass_rate"] = _mean(0.0 if x["reasons"] else 1.0 for x in r)
    attempted = [x for x in r if "llm_used" in x]
    m["llm_answer_share"] = _share(sum(1 for x in attempted if x["llm_used"]), len(attempted))
    m["llm_sentences_kept"] = _share(sum(x["llm_kept"] for x in attempted), sum(x["llm_written"] for x in attempted))
    latencies = [x["latency_ms"] for x in r if x.get("latency_ms") is not None]
    m["latency_p50_ms"] = percentile(latencies, 0.50)
    m["latency_p95_ms"] = percentile(latencies, 0.95)
    m["latency_max_ms"] = max(latencies) if latencies else None
    m["throughput_qps"] = (computed / wall_seconds) if computed and wall_seconds else None
    m["facts_total"] = sum(x.get("facts_total", 0) for x in r)
    m["sentences"] = sum(x.get("sentences", 0) for x in r)
    return m


BREAKDOWN_METRICS = (
    "kind_accuracy",
    "recall_at_k",
    "mrr",
    "citation_recall",
    "facts_recall",
    "groundedness",
    "jurisdiction_attribution",
    "pass_rate",
)


def breakdowns(results: Sequence[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Metrics per category and per expected jurisdiction (a UK+US question counts in both)."""
    by_category: dict[str, list[dict[str, Any]]] = {}
    by_jurisdiction: dict[str, list[dict[str, Any]]] = {}
    for x in results:
        by_category.setdefault(x["category"], []).append(x)
        for j in x["jurisdictions"] or ["none"]:
            by_jurisdiction.setdefault(j, []).append(x)
        if len(x["jurisdictions"]) > 1:
            by_jurisdiction.setdefault("+".join(sorted(x["jurisdictions"])), []).append(x)

    def table(groups: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
        out = {}
        for name in sorted(groups):
            full = aggregate(groups[name])
            out[name] = {
                "questions": full["questions"],
                **{key: full[key] for key in BREAKDOWN_METRICS},
            }
        return out

    return {"category": table(by_category), "jurisdiction": table(by_jurisdiction)}


# ---------------------------------------------------------------------------------------------
# Running


def read_answers(path: Path) -> dict[str, dict[str, Any]]:
    """Entries already in answers.jsonl, last one per id; a torn last line is ignored."""
    entries: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return entries
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict) and "id" in entry:
                entries[str(entry["id"])] = entry
    return entries


def _parse_answer(entry: dict[str, Any]) -> Answer | None:
    if entry.get("answer") is None:
        return None
    return Answer.model_validate(entry["answer"])


@dataclass
class RunResult:
    computed: int = 0
    reused: int = 0
    errors: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)


def run_questions(
    ask: Callable[..., Answer],
    records: Sequence[dict[str, Any]],
    answers_path: Path,
    concurrency: int = 1,
    limit: int | None = None,
    as_of: dt.date | None = None,
    progress: bool = True,
) -> RunResult:
    """Ask every question not already answered in answers_path; append each answer as it comes."""
    done = read_answers(answers_path)
    run = RunResult()
    todo = []
    for record in records:
        entry = done.get(record["id"])
        if (
            entry is not None
            and entry.get("answer") is not None
            and entry.get("record", {}).get("question") == record["question"]
        ):
            run.reused += 1
        else:
            todo.append(record)
    if limit is not None:
        todo = todo[:limit]
    answers_path.parent.mkdir(parents=True, exist_ok=True)
    if answers_path.exists() and answers_path.stat().st_size:
        with answers_path.open("rb") as raw:  # a killed run may leave a torn line: end it
            raw.seek(-1, 2)
            torn = raw.read(1) != b"\n"
        if torn:
            with answers_path.open("a", encoding="utf-8") as text:
                text.write("\n")
    write_lock = threading.Lock()
    if todo and isinstance(ask, LazyBot):
        ask.ready()  # the model loads before the clock starts, so throughput counts answers only
    from tqdm import tqdm

    bar = tqdm(
        total=len(todo),
        file=sys.stderr,
        unit="q",
        desc="eval",
        dynamic_ncols=True,
        disable=not progress or not todo,
        smoothing=0.1,
    )

    def one(record: dict[str, Any]) -> dict[str, Any]:
        day = dt.date.fromisoformat(record["as_of"]) if record.get("as_of") else as_of
        started = time.perf_counter()
        entry: dict[str, Any] = {
            "id": record["id"],
            "record": record,
            "answer": None,
            "error": None,
        }
        try:
            answer = ask(
                record["question"],
                history=record.get("history") or None,
                jurisdictions=record.get("jurisdictions"),
                as_of=day,
            )
            entry["answer"] = answer.model_dump(mode="json")
        except Exception as exc:  # a failing question is recorded and the run goes on
            entry["error"] = f"{type(exc).__name__}: {exc}"
        entry["wall_ms"] = round((time.perf_counter() - started) * 1000, 2)
        entry["computed_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        line = json.dumps(entry, ensure_ascii=False)
        with write_lock, answers_path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
        return entry

    started = time.perf_counter()
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="eval")
    pending: set[Future[dict[str, Any]]] = set()
    queue = iter(todo)
    try:
        for record in queue:  # keep at most 2 * concurrency in flight so an interrupt loses little
            pending.add(pool.submit(one, record))
            if len(pending) >= 2 * max(1, concurrency):
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    _count(run, future.result(), bar)
        for future in list(pending):
            _count(run, future.result(), bar)
        pending.clear()
    except KeyboardInterrupt:
        run.interrupted = True
        for future in pending:
            future.cancel()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # running questions finish and are saved
        bar.close()
        run.seconds = time.perf_counter() - started
    run.entries = read_answers(answers_path)
    return run


def _count(run: RunResult, entry: dict[str, Any], bar: Any) -> None:
    run.computed += 1
    if entry.get("error"):
        run.errors += 1
        bar.write(f"question {entry['id']}: {entry['error']}", file=sys.stderr)
    bar.update(1)


# ---------------------------------------------------------------------------------------------
# Evaluation of a run folder


def evaluate(
    records: Sequence[dict[str, Any]],
    entries: dict[str, dict[str, Any]],
    k: int = DEFAULT_K,
    wall_seconds: float | None = None,
    computed: int | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Score every record that has an entry; returns (metrics, per-question results)."""
    results = []
    for record in records:
        entry = entries.get(record["id"])
        if entry is None:
            continue
        answer = _parse_answer(entry)
        result = score_question(record, answer, entry.get("error"), k=k)
        result["question"] = record["question"]
        result["source"] = record.get("source")
        if answer is not None:
            result["answer_excerpt"] = answer_body(answer).strip()[:1500]
        results.append(result)
    overall = aggregate(results, wall_seconds, computed)
    return {"overall": overall, **breakdowns(results)}, results


def compare(metrics: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    """What improved and what regressed against a baseline run's metrics.json."""
    changes: dict[str, Any] = {"metrics": [], "improved": [], "regressed": [], "new_questions": []}
    old_overall = baseline.get("overall", {})
    for name, (label, higher, fmt) in METRICS.items():
        new, old = metrics["overall"].get(name), old_overall.get(name)
        if new is None or old is None:
            continue
        delta = new - old
        # ratios: under 0.05 points is noise in the shown precision; latency/throughput: 10%
        tolerance = {"ratio": 0.0005, "count": 1e-9}.get(fmt, max(abs(old) * 0.1, 1e-9))
        status = "same"
        if abs(delta) > tolerance:
            status = "improved" if (delta > 0) == higher else "regressed"
        changes["metrics"].append(
            {
                "name": name,
                "label": label,
                "old": old,
                "new": new,
                "delta": delta,
                "status": status,
                "format": fmt,
            }
        )
    old_questions = baseline.get("questions", {})
    for qid, now in metrics.get("questions", {}).items():
        before = old_questions.get(qid)
        if before is None:
            changes["new_questions"].append(qid)
            continue
        if before["pass"] and not now["pass"]:
            changes["regressed"].append({"id": qid, "reasons": now["reasons"]})
        elif not before["pass"] and now["pass"]:
            changes["improved"].append({"id": qid, "reasons": before["reasons"]})
    changes["dropped_questions"] = [q for q in old_questions if q not in metrics.get("questions", {})]
    return changes


def parse_thresholds(text: str | None) -> dict[str, float]:
    """'recall=0.9,kind_accuracy=0.8' -> {'recall_at_k': 0.9, 'kind_accuracy': 0.8}."""
    thresholds: dict[str, float] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        name = ALIASES.get(name.strip(), name.strip())
        if not sep or name not in METRICS:
            raise click.BadParameter(
                f"'{part.strip()}': use NAME=NUMBER with NAME one of {', '.join(METRICS)}",
                param_hint="--fail-under",
            )
        try:
            thresholds[name] = float(value)
        except ValueError as exc:
            raise click.BadParameter(f"'{part.strip()}': {value!r} is not a number", param_hint="--fail-under") from exc
    return thresholds


def check_thresholds(overall: dict[str, Any], thresholds: dict[str, float]) -> list[str]:
    """Missed thresholds; for metrics where lower is better the threshold is a ceiling."""
    missed = []
    for name, limit in thresholds.items():
        value = overall.get(name)
        higher = METRICS[name][1]
        if value is None:
            missed.append(f"{name}: not measured (no question to measure it), threshold {limit}")
        elif higher and value < limit:
            missed.append(f"{name} = {value:.4g} is under {limit}")
        elif not higher and value > limit:
            missed.append(f"{name} = {value:.4g} is over {limit} (lower is better)")
    return missed


# ---------------------------------------------------------------------------------------------
# Report


def _fmt(value: Any, fmt: str) -> str:
    if value is None:
        return "n/a"
    if fmt == "ratio":
        return f"{value * 100:.1f}%"
    if fmt == "ms":
        return f"{value:,.0f} ms"
    if fmt == "qps":
        return f"{value:.2f} q/s"
    return f"{value:g}"


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def bar_chart(title: str, bars: list[tuple[str, float | None, str]], fmt: str, scale: float | None = None) -> str:
    """A horizontal inline-SVG bar chart; bars are (label, value, css class)."""
    width, label_w, row_h, top = 460, 150, 24, 8
    plot_w = width - label_w - 80
    values = [v for _, v, _ in bars if v is not None]
    top_value = scale if scale is not None else (max(values) if values and max(values) > 0 else 1.0)
    height = top + row_h * len(bars) + 6
    parts = [
        f'<svg class="chart" role="img" aria-label="{_esc(title)}" '
        f'width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg"><title>{_esc(title)}</title>'
    ]
    for i, (label, value, css) in enumerate(bars):
        y = top + i * row_h
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" class="lbl">{_esc(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{plot_w}" height="16" class="track"/>')
        if value is not None:
            w = max(1.0, plot_w * min(1.0, value / top_value)) if top_value else 1.0
            parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="16" class="bar {css}"/>')
        parts.append(f'<text x="{label_w + plot_w + 6}" y="{y + 15}" class="val">{_esc(_fmt(value, fmt))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_report(
    metrics: dict[str, Any],
    results: Sequence[dict[str, Any]],
    info: dict[str, Any],
    changes: dict[str, Any] | None,
    problems: Sequence[Problem],
) -> str:
    """The self-contained HTML report (no scripts, no external resources)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    overall = metrics["overall"]
    charts = []
    groups = [j for j in ("UK", "US", "INTL", "UK+US") if j in metrics["jurisdiction"]]
    for name, (label, higher, fmt) in METRICS.items():
        if fmt == "ratio":
            bars: list[tuple[str, float | None, str]] = [("all questions", overall.get(name), "all")]
            if changes is not None:
                old = next((c["old"] for c in changes["metrics"] if c["name"] == name), None)
                bars.append(("baseline", old, "base"))
            if name in BREAKDOWN_METRICS:
                bars += [(g, metrics["jurisdiction"][g].get(name), "grp") for g in groups]
            charts.append(
                {
                    "name": name,
                    "label": label,
                    "value": _fmt(overall.get(name), fmt),
                    "svg": bar_chart(label, bars, fmt, scale=1.0),
                    "higher": higher,
                }
            )
    latency = [
        ("p50", overall.get("latency_p50_ms"), "all"),
        ("p95", overall.get("latency_p95_ms"), "all"),
        ("max", overall.get("latency_max_ms"), "all"),
    ]
    charts.append(
        {
            "name": "latency",
            "label": "Latency per question",
            "higher": False,
            "value": _fmt(overall.get("latency_p50_ms"), "ms") + " p50",
            "svg": bar_chart("Latency per question", latency, "ms"),
        }
    )
    hits = overall.get("must_not_say_hits") or 0
    charts.append(
        {
            "name": "must_not_say_hits",
            "label": "must_not_say hits",
            "higher": False,
            "value": str(hits),
            "svg": bar_chart(
                "must_not_say hits",
                [("hits", float(hits), "bad" if hits else "all")],
                "count",
                scale=max(1.0, float(hits)),
            ),
        }
    )
    throughput = overall.get("throughput_qps")
    charts.append(
        {
            "name": "throughput_qps",
            "label": "Throughput",
            "higher": True,
            "value": _fmt(throughput, "qps"),
            "svg": bar_chart("Throughput", [("questions/s", throughput, "all")], "qps"),
        }
    )

    rows = [
        {
            "name": name,
            "label": label,
            "value": _fmt(overall.get(name), fmt),
            "direction": "higher is better" if higher else "lower is better",
        }
        for name, (label, higher, fmt) in METRICS.items()
    ]
    failing = [r for r in results if r["reasons"]]
    env = Environment(
        loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=select_autoescape(["html"]),
    )
    env.filters["pct"] = lambda v: _fmt(v, "ratio")
    env.filters["signed"] = lambda c: (
        ("+" if c["delta"] >= 0 else "")
        + (f"{c['delta'] * 100:.1f} pts" if c["format"] == "ratio" else _fmt(c["delta"], c["format"]))
    )
    env.filters["fmt"] = lambda c, key: _fmt(c[key], c["format"])
    template = env.get_template("report.html")
    return template.render(
        info=info,
        rows=rows,
        charts=charts,
        overall=overall,
        breakdown_metrics=BREAKDOWN_METRICS,
        metric_labels={n: METRICS[n][0] for n in BREAKDOWN_METRICS},
        categories=metrics["category"],
        jurisdictions=metrics["jurisdiction"],
        failing=failing,
        results=results,
        changes=changes,
        problems=[str(p) for p in problems],
    )


# ---------------------------------------------------------------------------------------------
# Command


def run_eval(
    ask: Callable[..., Answer] | None,
    inputs: Sequence[Path | str],
    out: Path,
    concurrency: int = 1,
    baseline: Path | None = None,
    k: int = DEFAULT_K,
    limit: int | None = None,
    as_of: dt.date | None = None,
    progress: bool = True,
    info: dict[str, Any] | None = None,
    split: str = "all",
    known_sources: set[str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> tuple[dict[str, Any], list[Problem], RunResult]:
    """Load, run (resuming), score and report; returns (metrics, problems, run).

    With `known_sources` (the index's document ids), expected_sources outside it are reported
    through `warn` before any question is asked."""
    records, problems = load_questions(inputs)
    if split != "all":
        records = [r for r in records if split_of(r["id"]) == split]
    unknown = unknown_sources(records, known_sources) if known_sources is not None else []
    for problem in unknown:
        if warn is not None:
            warn(f"warning: {problem}")
    out.mkdir(parents=True, exist_ok=True)
    answers_path = out / "answers.jsonl"
    if ask is None:  # score an existing run only
        run = RunResult(entries=read_answers(answers_path))
    else:
        run = run_questions(ask, records, answers_path, concurrency, limit, as_of, progress)
    metrics, results = evaluate(records, run.entries, k=k, wall_seconds=run.seconds, computed=run.computed)
    answered = {r["id"] for r in results}
    metrics["run"] = {
        "inputs": [str(p) for p in inputs],
        "questions_loaded": len(records),
        "questions_scored": len(results),
        "questions_missing": [r["id"] for r in records if r["id"] not in answered],
        "computed_this_run": run.computed,
        "reused": run.reused,
        "errors_this_run": run.errors,
        "seconds_this_run": round(run.seconds, 3),
        "concurrency": concurrency,
        "split": split,
        "k": k,
        "as_of": (as_of or dt.date.today()).isoformat(),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "skipped_lines": [str(p) for p in problems],
        "unknown_sources": [str(p) for p in unknown],
        "index_builds": sorted(
            {
                str(e["answer"].get("index_build"))
                for e in run.entries.values()
                if e.get("answer") and e["id"] in answered
            }
        ),
        **(info or {}),
    }
    if not metrics["run"]["questions_missing"]:
        del metrics["run"]["questions_missing"]
    metrics["questions"] = {
        r["id"]: {"pass": not r["reasons"], "reasons": r["reasons"], "category": r["category"]} for r in results
    }
    changes = None
    if baseline is not None:
        base_file = baseline / "metrics.json" if baseline.is_dir() else baseline
        changes = compare(metrics, json.loads(base_file.read_text(encoding="utf-8")))
        changes["baseline"] = str(baseline)
        metrics["baseline"] = {k2: v for k2, v in changes.items() if k2 != "metrics"} | {
            "metrics": {
                c["name"]: {"old": c["old"], "new": c["new"], "status": c["status"]} for c in changes["metrics"]
            }
        }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str) + "\n", encoding="utf-8")
    report = render_report(metrics, results, metrics["run"], changes, problems)
    (out / "report.html").write_text(report, encoding="utf-8")
    return metrics, problems, run


def summary_lines(metrics: dict[str, Any]) -> list[str]:
    overall = metrics["overall"]
    run = metrics["run"]
    skipped = len(run.get("skipped_lines", []))
    lines = [
        f"{overall['questions']} questions scored "
        f"({run['computed_this_run']} computed now, "
        f"{run['reused']} reused, {overall['errors']} errors, "
        f"{skipped} input line{'' if skipped == 1 else 's'} skipped)"
    ]
    if run.get("unknown_sources"):
        lines.append(f"{len(run['unknown_sources'])} questions expect sources that are not in the index (see above)")
    for name, (label, _, fmt) in METRICS.items():
        lines.append(f"  {name:32} {_fmt(overall.get(name), fmt):>12}   {label}")
    return lines


class LazyBot:
    """Bot.ask for `bot eval`, loading the model and the index only when a question is left to ask (a fully
    resumed run asks none); `info` records the build that answered."""

    def __init__(self, settings: Any) -> None:
        from bot.index import current_manifest

        manifest = current_manifest(settings) or {}
        self.settings = settings
        self.info: dict[str, Any] = {
            "corpus_version": manifest.get("corpus_version"),
            "index_build": manifest.get("build_id"),
            "composer": settings.llm,
            "embedding_model": settings.embedding.model,
        }
        self._bot: Any = None
        self._lock = threading.Lock()

    def ready(self) -> None:
        """Load the bot now (run_questions calls this before its clock starts)."""
        with self._lock:
            if self._bot is None:
                from bot.core import Bot

                self._bot = Bot(self.settings, progress=lambda message: click.echo(message, err=True))
                self.info.update(corpus_version=self._bot.index.corpus_version, index_build=self._bot.index.build_id)

    def __call__(self, question: str, **options: Any) -> Answer:
        self.ready()
        answer: Answer = self._bot.ask(question, **options)
        return answer


@click.command("eval")
@click.argument("questions", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run folder: answers.jsonl, metrics.json, report.html. An existing folder resumes. Required with "
    "QUESTIONS; with --holdings, where holdings.json is written.",
)
@click.option(
    "--holdings",
    "holdings_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Score `bot holding` reports against a holdings file instead of asking questions (README: "
    "Evaluating My holding): cell accuracy, gap recall, timeline recall.",
)
@click.option(
    "--concurrency",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Questions asked at the same time.",
)
@click.option(
    "--baseline",
    type=click.Path(exists=True, path_type=Path),
    help="An earlier run folder (or its metrics.json) to compare with.",
)
@click.option(
    "--fail-under",
    "fail_under",
    metavar="NAME=X,...",
    help="Exit 1 when a metric misses its threshold, e.g. recall=0.9,kind_accuracy=0.8. "
    "For lower-is-better metrics (must_not_say_hits, latency_*) X is a ceiling.",
)
@click.option(
    "--k",
    "k",
    default=DEFAULT_K,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Evidence documents counted by recall@k.",
)
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Answer as on this date (a question's own as_of field wins). Default: today.",
)
@click.option(
    "--limit",
    type=click.IntRange(0),
    help="Ask at most this many new questions (the rest on a rerun).",
)
@click.option(
    "--split",
    type=click.Choice(["all", "tune", "validation"]),
    default="all",
    show_default=True,
    help="Only the questions of one split of the development set (a stable hash of each id puts "
    "30% in 'validation'): tune on 'tune', check on 'validation'.",
)
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option(
    "--rescore",
    is_flag=True,
    help="Do not ask anything: rescore answers.jsonl and rewrite the report.",
)
@click.pass_context
def eval_command(
    ctx: click.Context,
    questions: tuple[Path, ...],
    out: Path | None,
    holdings_file: Path | None,
    concurrency: int,
    baseline: Path | None,
    fail_under: str | None,
    k: int,
    as_of: dt.datetime | None,
    limit: int | None,
    split: str,
    no_progress: bool,
    rescore: bool,
) -> None:
    """Run the bot over question files (JSONL/CSV or folders of them) and score the answers.

    \b
    Examples:
      bot eval eval/questions --out runs/today
      bot eval eval/questions --out runs/ci --fail-under recall=0.8,kind_accuracy=0.95
      bot eval eval/questions --out runs/new --baseline runs/today
      bot eval --holdings eval/holdings/holdings.jsonl --out runs/holdings

    Exit status: 0 when every threshold is met, 1 when one is missed, 2 on a usage or bot error.
    """
    if holdings_file is not None:
        _eval_holdings(ctx, holdings_file, out)
        return
    if not questions or out is None:
        raise click.UsageError("Give QUESTIONS and --out (or --holdings FILE).")
    from bot.settings import Settings

    thresholds = parse_thresholds(fail_under)
    ask = None
    info: dict[str, Any] = {}
    obj = ctx.find_root().obj or {}
    settings = obj.get("settings") or Settings()
    if not rescore:
        lazy = LazyBot(settings)
        ask, info = lazy, lazy.info
    try:
        metrics, problems, run = run_eval(
            ask,
            questions,
            out,
            concurrency=concurrency,
            baseline=baseline,
            k=k,
            limit=limit,
            as_of=as_of.date() if as_of else None,
            progress=not no_progress,
            info=info,
            split=split,
            known_sources=indexed_source_ids(settings.index.path),
            warn=lambda message: click.echo(message, err=True),
        )
    except KeyboardInterrupt:
        saved = len(read_answers(out / "answers.jsonl"))
        click.echo(
            f"\nInterrupted: {saved} answers are saved in {out / 'answers.jsonl'}; "
            "run the same command again to resume.",
            err=True,
        )
        ctx.exit(130)
    for problem in problems:
        click.echo(f"skipped {problem}", err=True)
    for line in summary_lines(metrics):
        click.echo(line)
    click.echo(f"report: {out / 'report.html'}")
    if len(metrics["run"]["index_builds"]) > 1:
        click.echo(
            f"warning: the answers come from {len(metrics['run']['index_builds'])} index builds "
            "(the corpus changed while resuming); use a new --out for comparable figures.",
            err=True,
        )
    missing = metrics["run"].get("questions_missing")
    if missing:
        click.echo(
            f"{len(missing)} questions not answered yet; run the same command again to resume.",
            err=True,
        )
    missed = check_thresholds(metrics["overall"], thresholds)
    if missed:
        for line in missed:
            click.echo(f"FAIL {line}", err=True)
        ctx.exit(1)
    if thresholds:
        click.echo(f"all {len(thresholds)} thresholds met")


def _eval_holdings(ctx: click.Context, path: Path, out: Path | None) -> None:
    """`bot eval --holdings FILE`: build each holding's report from the corpus and score it."""
    from bot.corpus import load_corpus
    from bot.holding import build_holding
    from bot.holding_eval import load_cases, score_holdings
    from bot.holding_eval import summary_lines as holding_summary
    from bot.settings import Settings

    settings: Settings = (ctx.find_root().obj or {}).get("settings") or Settings()
    documents = {d.id: d for d in load_corpus(settings.corpus.path)}
    scores = score_holdings(
        load_cases(path),
        lambda holding, as_of: build_holding(holding, documents, as_of, statuses=settings.retrieval.statuses),
    )
    for line in holding_summary(scores):
        click.echo(line)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "holdings.json").write_text(scores.model_dump_json(indent=2), encoding="utf-8")
        click.echo(f"scores: {out / 'holdings.json'}")
