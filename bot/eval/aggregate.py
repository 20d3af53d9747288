"""Figures over a set of scored questions: the overall metrics, breakdowns, baseline comparison, thresholds."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import click

from bot.eval.metrics import ALIASES, METRICS, QuestionScore


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (share in 0..1)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None


def _share(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _ratio_true(flags: Iterable[bool | None]) -> float | None:
    """Share of True among the questions that measure a flag (None: not measured)."""
    return _mean(1.0 if flag else 0.0 for flag in flags if flag is not None)


def aggregate(
    results: Sequence[QuestionScore],
    wall_seconds: float | None = None,
    computed: int | None = None,
) -> dict[str, Any]:
    """The metrics over scored questions (None where no question measures a metric)."""
    r = results
    m: dict[str, Any] = {"questions": len(r), "errors": sum(1 for x in r if x.error)}
    m["recall_at_k"] = _mean(x.recall_at_k for x in r if x.recall_at_k is not None)
    m["mrr"] = _mean(x.mrr for x in r if x.mrr is not None)
    m["citation_precision"] = _share(sum(x.citations_good for x in r), sum(x.citations_used for x in r))
    with_expected = [x for x in r if x.citations_expected is not None]
    m["citation_precision_expected"] = _share(
        sum(x.citations_expected or 0 for x in with_expected),
        sum(x.citations_used for x in with_expected),
    )
    m["citation_recall"] = _mean(x.citation_recall for x in r if x.citation_recall is not None)
    m["facts_recall"] = _share(sum(x.facts_found for x in r), sum(x.facts_total for x in r))
    m["must_not_say_hits"] = sum(x.must_not_say_hits for x in r)
    m["kind_accuracy"] = _ratio_true(x.kind_correct for x in r)
    m["jurisdiction_coverage"] = _ratio_true(x.jurisdiction_covered for x in r)
    m["evidence_jurisdiction_coverage"] = _ratio_true(x.evidence_jurisdiction_covered for x in r)
    m["groundedness"] = _share(sum(x.sentences_grounded for x in r), sum(x.sentences for x in r))
    m["jurisdiction_attribution"] = _share(
        sum(x.sentences_attributed for x in r),
        sum(x.sentences_attributable for x in r),
    )
    m["temporal_correctness"] = _ratio_true(x.temporal_correct for x in r)
    for kind in ("no_guidance", "refusal"):
        labelled = [x for x in r if x.expected_kind]
        predicted = [x for x in labelled if x.kind == kind]
        expected = [x for x in labelled if x.expected_kind == kind]
        hits = sum(1 for x in predicted if x.expected_kind == kind)
        m[f"{kind}_precision"] = _share(hits, len(predicted))
        m[f"{kind}_recall"] = _share(hits, len(expected))
    m["pass_rate"] = _mean(0.0 if x.reasons else 1.0 for x in r)
    attempted = [x for x in r if x.llm_used is not None]
    m["llm_answer_share"] = _share(sum(1 for x in attempted if x.llm_used), len(attempted))
    m["llm_sentences_kept"] = _share(
        sum(x.llm_kept or 0 for x in attempted), sum(x.llm_written or 0 for x in attempted)
    )
    latencies = [x.latency_ms for x in r if x.latency_ms is not None]
    m["latency_p50_ms"] = percentile(latencies, 0.50)
    m["latency_p95_ms"] = percentile(latencies, 0.95)
    m["latency_max_ms"] = max(latencies) if latencies else None
    m["throughput_qps"] = (computed / wall_seconds) if computed and wall_seconds else None
    m["facts_total"] = sum(x.facts_total for x in r)
    m["sentences"] = sum(x.sentences for x in r)
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


def breakdowns(results: Sequence[QuestionScore]) -> dict[str, dict[str, dict[str, Any]]]:
    """Metrics per category and per expected jurisdiction (a UK+US question counts in both)."""
    by_category: dict[str, list[QuestionScore]] = {}
    by_jurisdiction: dict[str, list[QuestionScore]] = {}
    for x in results:
        by_category.setdefault(x.category, []).append(x)
        for j in x.jurisdictions or ["none"]:
            by_jurisdiction.setdefault(j, []).append(x)
        if len(x.jurisdictions) > 1:
            by_jurisdiction.setdefault("+".join(sorted(x.jurisdictions)), []).append(x)

    def table(groups: dict[str, list[QuestionScore]]) -> dict[str, dict[str, Any]]:
        out = {}
        for name in sorted(groups):
            full = aggregate(groups[name])
            out[name] = {
                "questions": full["questions"],
                **{key: full[key] for key in BREAKDOWN_METRICS},
            }
        return out

    return {"category": table(by_category), "jurisdiction": table(by_jurisdiction)}


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
