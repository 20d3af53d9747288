"""`bot eval`: hand-scored metrics, bad input, resume, baseline, CLI gate, report in Chromium."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.core import Bot
from bot.eval.aggregate import aggregate, check_thresholds, compare, parse_thresholds, percentile
from bot.eval.matching import contains, supports
from bot.eval.metrics import ranked_evidence_docs, score_question
from bot.eval.questions import Question, indexed_source_ids, load_questions, parse_question
from bot.eval.report import summary_lines
from bot.eval.runner import read_answers, run_eval
from bot.prompts import NOTICE
from bot.settings import Settings
from bot.types import Answer, Citation, Diagnostics, Sentence

EVAL_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "eval"
TINY = EVAL_FIXTURES / "tiny.jsonl"
TINY_CSV = EVAL_FIXTURES / "tiny.csv"
MALFORMED = EVAL_FIXTURES / "malformed.jsonl"
AS_OF = dt.date(2026, 11, 24)

# ---------------------------------------------------------------------------------------------
# Hand-built answers


def make_answer(
    question: str,
    kind: str,
    sections: dict[str, list[tuple[str, list[int]]]] | None = None,
    citations: dict[int, dict[str, Any]] | None = None,
    evidence: list[tuple[str, str, float]] | None = None,
    total_ms: float = 100.0,
    labels: dict[int, str] | None = None,
) -> Answer:
    """An Answer as the composer renders one; citations are {id: {doc, jurisdiction, quote}}."""
    citations = citations or {}
    built = {
        cid: Citation(
            id=cid,
            doc_id=c["doc"],
            title=f"Title of {c['doc']}",
            publisher="P",
            jurisdiction=c["jurisdiction"],
            section="S",
            locator="L",
            anchor="a",
            url="https://example.org",
            status=c.get("status", "in_force"),
            published=dt.date(2024, 1, 1),
            until=c.get("until"),
            reviewed=dt.date(2026, 1, 1),
            content_hash="0" * 64,
            quote=c["quote"],
        )
        for cid, c in citations.items()
    }
    out_sections = {
        name: [Sentence(text=t, citations=ids) for t, ids in (sections or {}).get(name, [])]
        for name in ("UK", "US", "cross_border", "next_steps")
    }
    lines = ["**What I understood:** a question.", ""]
    for name, sentences in out_sections.items():
        if sentences:
            lines.append(f"**{name}**")
            for s in sentences:
                label = "".join((labels or {}).get(c, "") for c in s.citations)
                lines.append(f"- {s.text} {''.join(f'[{c}]' for c in s.citations)}{label}")
            lines.append("")
    if built:
        lines.append("**Sources**")
        lines += [
            f"[{cid}] {c.title} (FSCS protects crypto, a title is not part of the body)" for cid, c in built.items()
        ]
    lines.append(f"_{NOTICE}_")
    return Answer(
        id="x",
        question=question,
        kind=kind,
        answer="\n".join(lines),  # type: ignore[arg-type]
        sections=out_sections,
        citations=built,
        profile={},
        timings={"total": total_ms},
        as_of=AS_OF,
        corpus_version="c",
        index_build="b",
        notice=NOTICE,
        evidence=[
            {"doc_id": d, "section": "s", "group": g, "score": s, "similarity": 0.5} for d, g, s in evidence or []
        ],
    )


def record(**fields: Any) -> Question:
    return parse_question(fields, "hand.jsonl", 1)


def hand_set() -> list[tuple[Question, Answer]]:
    """Five questions whose metrics are worked out by hand in the test below."""
    q1 = record(
        id="q1",
        question="Is my crypto protected?",
        expected_kind="answer",
        expected_jurisdictions=["UK", "US"],
        expected_sources=["fscs", "sipc"],
        must_mention=["£85,000", "not protected", "compensation scheme"],
        must_not_say=["FSCS protects crypto"],
        category="protection",
    )
    a1 = make_answer(
        q1.question,
        "answer",
        sections={
            "UK": [("Cryptoassets are not protected by the FSCS.", [1])],
            "US": [("Bitcoin is fine under SIPC rules.", [2])],  # unsupported, and cites a UK source
            "next_steps": [("Deposits are protected up to £85,000.", [1])],
        },
        citations={
            1: {
                "doc": "fscs",
                "jurisdiction": "UK",
                "quote": "Cryptoassets are not protected by the FSCS. Deposits are protected up to £85,000.",
            },
            2: {
                "doc": "uk-other",
                "jurisdiction": "UK",
                "quote": "The SEC brings enforcement actions.",
            },
        },
        # unique docs by score: other, fscs, d3, d4, d5, sipc -> sipc is 6th, outside k=5
        evidence=[
            ("other", "UK", 0.9),
            ("fscs", "UK", 0.8),
            ("other", "UK", 0.7),
            ("d3", "US", 0.6),
            ("d4", "US", 0.5),
            ("d5", "US", 0.4),
            ("sipc", "US", 0.1),
        ],
        total_ms=100,
    )
    q2 = record(
        id="q2",
        question="When does the GENIUS Act apply?",
        expected_kind="answer",
        expected_jurisdictions=["UK", "US"],
        expected_sources=["genius"],
        must_mention=["18 January 2027"],
        must_not_say=["backed by the US government"],
        category="stablecoins",
    )
    a2 = make_answer(
        q2.question,
        "answer",
        sections={
            "US": [
                ("The Act takes effect on 18 January 2027.", [1]),
                ("The CLARITY Act would split oversight.", [2]),
            ],
            "UK": [("Stablecoin issuers would need FCA authorisation.", [3])],
            "cross_border": [("Stablecoins are backed by the US government.", [])],
        },
        citations={
            1: {
                "doc": "genius",
                "jurisdiction": "US",
                "status": "not_yet_in_force",
                "quote": "The Act takes effect on 18 January 2027.",
            },
            2: {
                "doc": "clarity",
                "jurisdiction": "US",
                "status": "proposed",
                "quote": "The CLARITY Act would split oversight.",
            },  # proposal without a label
            3: {
                "doc": "old-cp",
                "jurisdiction": "UK",
                "status": "superseded",
                "until": dt.date(2026, 6, 30),
                "quote": "Stablecoin issuers would need FCA authorisation.",
            },  # stopped applying before as_of
        },
        evidence=[("genius", "US", 0.5), ("uk1", "UK", 0.4)],
        total_ms=200,
    )
    q3 = record(id="q3", question="should I buy bitcoin", expected_kind="refusal", category="advice")
    a3 = make_answer(q3.question, "refusal", total_ms=300)
    q4 = record(
        id="q4",
        question="crypto tax in australia",
        expected_kind="no_guidance",
        category="out_of_scope",
    )
    a4 = make_answer(q4.question, "refusal", total_ms=400)
    q5 = record(id="q5", question="banana bread", expected_kind="no_guidance", category="out_of_scope")
    a5 = make_answer(q5.question, "no_guidance", total_ms=500)
    return [(q1, a1), (q2, a2), (q3, a3), (q4, a4), (q5, a5)]


# ---------------------------------------------------------------------------------------------
# Pure metric tests


def test_text_matching_normalises_case_space_quotes_and_money() -> None:
    assert contains("Deposits are protected up to £85,000 per person.", "£85000")
    assert contains("Deposits are protected up to £85000.", "£85,000")
    assert contains("the   FCA’s  “cooling-off” period", 'FCA\'s "cooling off"')
    assert contains("a limit of US$1,000 a day", "$1,000")
    assert not contains("it is not protected", "is protected")
    assert contains("it is NOT protected", "not protected")
    assert not contains("price of 2.5", "2")  # whole numbers only, not digits inside numbers
    # a period in words or digits: "eight weeks" == "8 weeks", "a 6-month limit" == "six months"
    assert contains("a firm has 8 weeks to reply", "eight weeks")
    assert contains("within six months of the final response", "6 months")
    assert not contains("eighty weeks", "8 weeks")
    assert supports("Crypto is not protected.", "Bitcoin may fall. Crypto is not protected. Be careful.")
    assert supports(
        "Cryptoassets held on exchanges are not protected by the FSCS",
        "The FSCS does not cover cryptoassets held on exchanges; they are not protected.",
    )
    assert not supports("The SIPC covers bitcoin.", "The SEC brings enforcement actions.")


def test_ranking_and_percentiles() -> None:
    answer = make_answer(
        "q",
        "answer",
        evidence=[("a", "UK", 0.1), ("b", "US", 0.9), ("a", "UK", 0.95), ("c", "US", 0.2)],
    )
    assert ranked_evidence_docs(answer) == ["a", "b", "c"]
    assert percentile([100, 200, 300, 400, 500], 0.5) == 300
    assert percentile([100, 200, 300, 400, 500], 0.95) == 500
    assert percentile(list(range(1, 101)), 0.95) == 95
    assert percentile([], 0.5) is None


def test_metrics_on_a_hand_scored_set() -> None:
    pairs = hand_set()
    results = [score_question(q, a, k=5) for q, a in pairs]
    by_id = {r.id: r for r in results}

    q1 = by_id["q1"]
    assert q1.recall_at_k == 0.5 and q1.mrr == 0.5
    assert q1.citations_used == 2 and q1.citations_good == 1 and q1.citations_expected == 1
    assert q1.citation_recall == 0.5
    assert (q1.facts_found, q1.facts_total, q1.must_not_say_hits) == (
        2,
        3,
        0,
    )  # Sources titles not searched
    assert q1.jurisdiction_covered is False and q1.evidence_jurisdiction_covered is True
    assert (q1.sentences_grounded, q1.sentences) == (2, 3)
    assert (q1.sentences_attributed, q1.sentences_attributable) == (1, 2)
    assert q1.temporal_correct is True

    q2 = by_id["q2"]
    assert q2.recall_at_k == 1.0 and q2.mrr == 1.0 and q2.citation_recall == 1.0
    assert q2.citations_good == 3 and q2.citations_expected == 1
    assert q2.must_not_say_hits == 1 and q2.facts_found == 1
    assert q2.jurisdiction_covered is True
    assert (q2.sentences_grounded, q2.sentences) == (3, 4)
    assert q2.stale_citations == ["old-cp"] and q2.unlabelled_proposals == ["clarity"]
    assert q2.temporal_correct is False
    assert any("said what it must not" in r for r in q2.reasons)

    assert by_id["q3"].reasons == [] and by_id["q3"].recall_at_k is None
    assert by_id["q4"].reasons == ["kind: expected no_guidance, got refusal"]
    assert by_id["q5"].reasons == []

    m = aggregate(results, wall_seconds=2.0, computed=5)
    expected = {
        "recall_at_k": 0.75,
        "mrr": 0.75,
        "citation_precision": 4 / 5,
        "citation_precision_expected": 2 / 5,
        "citation_recall": 0.75,
        "facts_recall": 3 / 4,
        "must_not_say_hits": 1,
        "kind_accuracy": 4 / 5,
        "jurisdiction_coverage": 0.5,
        "evidence_jurisdiction_coverage": 1.0,
        "groundedness": 5 / 7,
        "jurisdiction_attribution": 4 / 5,
        "temporal_correctness": 0.5,
        "refusal_precision": 0.5,
        "refusal_recall": 1.0,
        "no_guidance_precision": 1.0,
        "no_guidance_recall": 0.5,
        "pass_rate": 2 / 5,
        "latency_p50_ms": 300,
        "latency_p95_ms": 500,
        "latency_max_ms": 500,
        "throughput_qps": 2.5,
    }
    for name, value in expected.items():
        assert m[name] == pytest.approx(value), name


def test_a_labelled_proposal_is_temporally_correct() -> None:
    q = record(question="What would the CLARITY Act do?", expected_kind="answer")
    a = make_answer(
        q.question,
        "answer",
        sections={"US": [("The CLARITY Act would split oversight.", [1])]},
        citations={
            1: {
                "doc": "clarity",
                "jurisdiction": "US",
                "status": "consultation",
                "quote": "The CLARITY Act would split oversight.",
            }
        },
        labels={1: " _(proposal, not law)_"},
    )
    assert score_question(q, a).temporal_correct is True


def test_an_error_counts_as_a_failure() -> None:
    q = record(id="e", question="x" * 3000, expected_kind="answer")
    result = score_question(q, None, "QuestionError: too long")
    assert result.kind_correct is False and result.reasons == ["error: QuestionError: too long"]
    assert aggregate([result])["errors"] == 1


def test_thresholds_and_baseline_comparison() -> None:
    assert parse_thresholds("recall=0.9, kind_accuracy=0.8,must_not_say_hits=0") == {
        "recall_at_k": 0.9,
        "kind_accuracy": 0.8,
        "must_not_say_hits": 0.0,
    }
    with pytest.raises(Exception, match="NAME=NUMBER"):
        parse_thresholds("recal=0.9")
    overall = {
        "recall_at_k": 0.85,
        "kind_accuracy": 0.8,
        "must_not_say_hits": 2,
        "jurisdiction_coverage": None,
    }
    missed = check_thresholds(
        overall,
        {
            "recall_at_k": 0.9,
            "kind_accuracy": 0.8,
            "must_not_say_hits": 0,
            "jurisdiction_coverage": 0.5,
        },
    )
    assert len(missed) == 3
    assert missed[0].startswith("recall_at_k = 0.85 is under 0.9")
    assert "lower is better" in missed[1] and "not measured" in missed[2]

    old = {
        "overall": {"recall_at_k": 0.8, "latency_p50_ms": 100.0},
        "questions": {"a": {"pass": True, "reasons": []}, "b": {"pass": False, "reasons": ["x"]}},
    }
    new = {
        "overall": {"recall_at_k": 0.9, "latency_p50_ms": 300.0},
        "questions": {
            "a": {"pass": False, "reasons": ["y"]},
            "b": {"pass": True, "reasons": []},
            "c": {"pass": True, "reasons": []},
        },
    }
    changes = compare(new, old)
    assert changes["new_questions"] == ["c"] and changes["dropped_questions"] == []
    status = {c["name"]: c["status"] for c in changes["metrics"]}
    assert status == {"recall_at_k": "improved", "latency_p50_ms": "regressed"}
    assert [q["id"] for q in changes["regressed"]] == ["a"] and [q["id"] for q in changes["improved"]] == ["b"]


# ---------------------------------------------------------------------------------------------
# Input


def test_malformed_lines_are_reported_with_line_numbers_and_skipped() -> None:
    records, problems = load_questions([MALFORMED])
    assert [r.id for r in records] == ["m-1", "m-6"]
    lines = {p.line: p.message for p in problems}
    assert sorted(lines) == [2, 4, 5, 7, 8]
    assert "not valid JSON" in lines[2]
    cut_short = "at the end of the line, column 84: is the line cut short?"
    assert lines[2] == f"not valid JSON (Expecting property name enclosed in double quotes {cut_short})"
    assert "'question' is missing" in lines[4]
    assert "expected_kind 'maybe'" in lines[5]
    assert "duplicate id 'm-1'" in lines[7]
    assert all(str(p).startswith(f"{MALFORMED}:{p.line}: ") for p in problems)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"question": "a" "id": "b"}', "not valid JSON (Expecting ',' delimiter at column 18)"),
        ('{"question": "a"}}', "not valid JSON (Extra data at column 18)"),
        ('{"question": "a",', "at the end of the line, column 18: is the line cut short?"),
        ('{"question": "a", "expected_sources": "[\\"x\\""}', "'expected_sources' is not a valid JSON list"),
    ],
)
def test_json_errors_name_the_real_column(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "fine"}\n' + line + "\n")
    records, problems = load_questions([path])
    assert len(records) == 1 and [p.line for p in problems] == [2]
    assert message in problems[0].message


def test_unknown_expected_sources_are_reported_before_asking(
    fixture_bot: Bot, fixture_settings: Settings, tmp_path: Path
) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"id": "ok", "question": "Does SIPC cover crypto?", "expected_sources": ["sipc-crypto-not-covered"]})
        + "\n"
        + json.dumps({"id": "typo", "question": "Does the FSCS cover crypto?", "expected_sources": ["fscs-typo"]})
        + "\n"
    )
    known = indexed_source_ids(fixture_settings.index.path)
    assert known is not None and "sipc-crypto-not-covered" in known
    warnings: list[str] = []
    asked: list[str] = []

    def ask(question: str, **kwargs: Any) -> Answer:
        assert warnings, "the warning comes before the first question is asked"
        asked.append(question)
        return fixture_bot.ask(question, **kwargs)

    metrics, _, _ = run_eval(
        ask, [questions], tmp_path / "run", as_of=AS_OF, progress=False, known_sources=known, warn=warnings.append
    )
    assert warnings == [
        f"warning: {questions}:2: expected_sources 'fscs-typo' not in the index: a typo, or a document to add "
        "(`bot sources` lists the ids); scored as missed until then"
    ]
    assert len(asked) == 2 and metrics["run"]["unknown_sources"] == [warnings[0].removeprefix("warning: ")]
    assert "1 questions expect sources that are not in the index" in "\n".join(summary_lines(metrics))
    assert 'id="unknown-sources"' in (tmp_path / "run" / "report.html").read_text()


def test_csv_and_folder_inputs() -> None:
    records, problems = load_questions([TINY_CSV])
    assert problems == []
    usdc = records[0]
    assert usdc.expected_jurisdictions == ["UK", "US"]
    assert usdc.expected_sources == [
        "fscs-crypto-not-protected",
        "fdic-deposit-insurance-crypto",
    ]
    assert usdc.must_mention == [] and usdc.source.endswith("tiny.csv:2")
    records, problems = load_questions([EVAL_FIXTURES])
    assert {r.id for r in records} >= {"t-fscs", "c-usdc", "m-6"} and len(problems) == 5
    # ids default to file:line so that reruns resume
    assert parse_question({"question": "hi"}, "dir/set.jsonl", 7).id == "set:7"


# ---------------------------------------------------------------------------------------------
# End to end with the real fixture bot


def test_end_to_end_run_with_malformed_line(fixture_bot: Bot, tmp_path: Path) -> None:
    out = tmp_path / "run"
    metrics, problems, run = run_eval(
        fixture_bot.ask, [TINY, MALFORMED], out, concurrency=2, as_of=AS_OF, progress=False
    )
    assert run.computed == 7 and run.errors == 0 and len(problems) == 5
    assert metrics["run"]["skipped_lines"][0] == f"{MALFORMED}:2: " + problems[0].message
    entries = read_answers(out / "answers.jsonl")
    assert set(entries) == {"t-fscs", "t-sipc", "t-cgt", "t-advice", "t-recipe", "m-1", "m-6"}
    first = entries["t-fscs"]
    Answer.model_validate(first["answer"])  # the full answer object
    assert first["record"]["expected_sources"] == ["fscs-crypto-not-protected"]
    overall = metrics["overall"]
    assert overall["questions"] == 7
    assert overall["kind_accuracy"] == 1.0  # the fixture bot refuses advice and has no recipes
    assert overall["refusal_recall"] == 1.0 and overall["no_guidance_recall"] == 1.0
    assert overall["recall_at_k"] == 1.0
    assert overall["latency_p50_ms"] > 0 and overall["throughput_qps"] > 0
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["overall"]["questions"] == 7 and set(saved["category"]) >= {"protection", "tax"}
    assert set(saved["jurisdiction"]) >= {"UK", "US"}
    html = (out / "report.html").read_text()
    assert "<svg" in html and "malformed.jsonl:2" in html and "http://" not in html.split("<main>")[0]


def test_resume_after_interruption(fixture_bot: Bot, tmp_path: Path) -> None:
    out = tmp_path / "run"
    asked: list[str] = []

    def interrupted_ask(question: str, **kwargs: Any) -> Answer:
        if len(asked) == 2:
            raise KeyboardInterrupt  # Ctrl-C during the third question
        asked.append(question)
        return fixture_bot.ask(question, **kwargs)

    with pytest.raises(KeyboardInterrupt):
        run_eval(interrupted_ask, [TINY], out, concurrency=1, as_of=AS_OF, progress=False)
    assert len(read_answers(out / "answers.jsonl")) == 2
    with (out / "answers.jsonl").open("a") as handle:  # a kill in the middle of a write
        handle.write('{"id": "t-cgt", "record": {"question": "Do I pay')

    def counting_ask(question: str, **kwargs: Any) -> Answer:
        asked.append(question)
        return fixture_bot.ask(question, **kwargs)

    asked.clear()
    metrics, _, run = run_eval(counting_ask, [TINY], out, concurrency=2, as_of=AS_OF, progress=False)
    assert run.reused == 2 and run.computed == 3 and len(asked) == 3
    assert metrics["overall"]["questions"] == 5
    # a limited run leaves the rest for the next one
    asked.clear()
    out2 = tmp_path / "limited"
    metrics, _, run = run_eval(counting_ask, [TINY], out2, limit=2, as_of=AS_OF, progress=False)
    assert run.computed == 2 and len(metrics["run"]["questions_missing"]) == 3
    metrics, _, run = run_eval(counting_ask, [TINY], out2, as_of=AS_OF, progress=False)
    assert run.computed == 3 and run.reused == 2 and len(asked) == 5 and "questions_missing" not in metrics["run"]
    # answers from another index build (the corpus changed since) are asked again, not mixed in
    build = next(iter(read_answers(out2 / "answers.jsonl").values()))["answer"]["index_build"]
    asked.clear()
    _, _, run = run_eval(counting_ask, [TINY], out2, as_of=AS_OF, progress=False, build=build)
    assert run.reused == 5 and not asked
    _, _, run = run_eval(counting_ask, [TINY], out2, as_of=AS_OF, progress=False, build="another-build")
    assert run.reused == 0 and run.computed == 5


def test_cli_gate_exit_status(fixture_settings: Settings, tmp_path: Path) -> None:
    runner = CliRunner()
    base = [
        "--set",
        f"corpus.path={fixture_settings.corpus.path}",
        "--set",
        f"index.path={fixture_settings.index.path}",
    ]
    out = tmp_path / "cli"
    ok = runner.invoke(
        cli,
        [
            *base,
            "eval",
            str(TINY),
            str(MALFORMED),
            "--out",
            str(out),
            "--no-progress",
            "--fail-under",
            "recall=0.5,kind_accuracy=0.9,must_not_say_hits=0",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "all 3 thresholds met" in ok.output and "skipped" in ok.output and "malformed.jsonl:2" in ok.output
    assert "0 errors, 5 input lines skipped)" in ok.output
    failed = runner.invoke(
        cli,
        [
            *base,
            "eval",
            str(TINY),
            "--out",
            str(out),
            "--no-progress",
            "--fail-under",
            "kind_accuracy=1.01",
            "--baseline",
            str(out),
        ],
    )
    assert failed.exit_code == 1
    assert "FAIL kind_accuracy = 1 is under 1.01" in failed.output
    assert "0 computed now, 5 reused" in failed.output  # resumed: nothing recomputed
    bad = runner.invoke(cli, [*base, "eval", str(TINY), "--out", str(out), "--fail-under", "nonsense=1"])
    assert bad.exit_code == 2


def test_support_calibration_from_the_cli(fixture_settings: Settings, tmp_path: Path) -> None:
    passage = "A stablecoin such as USDC or USDT is not a bank deposit and is not protected by the FSCS."
    claims = tmp_path / "claims.jsonl"
    claims.write_text(
        "\n".join(
            json.dumps({"doc_id": "fscs-crypto-not-protected", "passage": passage, "claim": claim, **label})
            for claim, label in [
                (
                    "USDC is not a bank deposit and the FSCS does not protect it.",
                    {"label": "supported", "kind": "paraphrase"},
                ),
                ("The FSCS protects USDC up to £85,000.", {"label": "unsupported", "kind": "wrong_figure"}),
            ]
        )
        + "\n"
    )
    base = [
        "--set",
        f"corpus.path={fixture_settings.corpus.path}",
        "--set",
        f"index.path={fixture_settings.index.path}",
    ]
    runner = CliRunner()
    ok = runner.invoke(cli, [*base, "eval", "--support", str(claims), "--check", "1", "0"])
    assert ok.exit_code == 0, ok.output
    assert f"2 pairs from {claims}" in ok.output and "current settings: verify.min_support=" in ok.output
    assert ok.output.rstrip().endswith("OK")
    missed = runner.invoke(cli, [*base, "eval", "--support", str(claims), "--check", "0", "1.01"])
    assert missed.exit_code == 1 and "FAILED: want leak <= 0% and kept >= 101%" in missed.output
    claims.write_text('{"doc_id": "fscs-crypto-not-protected",\n')
    broken = runner.invoke(cli, [*base, "eval", "--support", str(claims)])
    assert broken.exit_code == 2 and f"{claims}:1: not JSON" in broken.output
    misplaced = runner.invoke(cli, [*base, "eval", str(TINY), "--out", str(tmp_path / "run"), "--check", "1", "0"])
    assert misplaced.exit_code == 2 and "--check goes with --support" in misplaced.output


# ---------------------------------------------------------------------------------------------
# The report in a browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.mark.slow
def test_report_renders_in_chromium(fixture_bot: Bot, tmp_path: Path, artifacts: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's Chromium is missing: `apt-get install -y chromium` (or `make browser`).")
    playwright_api = pytest.importorskip("playwright.sync_api")
    first, second = tmp_path / "first", tmp_path / "second"
    run_eval(fixture_bot.ask, [TINY, TINY_CSV], first, as_of=AS_OF, progress=False)
    run_eval(
        fixture_bot.ask,
        [TINY, TINY_CSV, MALFORMED],
        second,
        as_of=AS_OF,
        progress=False,
        baseline=first,
    )
    report = second / "report.html"
    requests: list[str] = []
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report.as_uri())
            charts = page.locator("svg.chart")
            assert charts.count() >= 15
            for i in range(charts.count()):
                box = charts.nth(i).bounding_box()
                assert box is not None and box["width"] > 100 and box["height"] > 10
            assert page.locator("svg.chart rect.bar").count() > 15
            for table in (
                "#overall-table",
                "#jurisdiction-table",
                "#category-table",
                "#baseline-table",
            ):
                assert page.locator(table).is_visible(), table
                assert page.locator(f"{table} tbody tr").count() >= 2, table
            assert page.locator("#overall-table").inner_text().count("%") > 10
            assert page.locator("#skipped-list li").count() == 5
            assert "malformed.jsonl:2" in page.locator("#skipped-list").inner_text()
            assert "5 input lines skipped" in page.locator("p.meta").first.inner_text()
            # The failing questions come before the charts.
            failing, first_chart = page.locator("#failing"), page.locator("svg.chart").first
            assert failing.bounding_box()["y"] < first_chart.bounding_box()["y"]  # type: ignore[index]
            page.screenshot(path=str(artifacts / "eval-report.png"), full_page=True)
        finally:
            browser.close()
    assert all(url.startswith("file://") for url in requests), requests  # self-contained: no network
    shutil.copy(report, artifacts / "eval-report.html")


def test_llm_backend_figures_come_from_the_answers_diagnostics() -> None:
    question = parse_question({"id": "q", "question": "Is my crypto protected?"}, "hand.jsonl", 1)
    written = make_answer("Is my crypto protected?", "answer")
    written.diagnostics = Diagnostics(composer="llm", sentences_written=4, sentences_kept=3, fallback=None)
    fell_back = make_answer("Is my crypto protected?", "answer")
    fell_back.diagnostics = Diagnostics(
        composer="extractive", sentences_written=4, sentences_kept=0, fallback="too_little_supported"
    )
    extractive = make_answer("Is my crypto protected?", "answer")
    results = [score_question(question, a) for a in (written, fell_back, extractive)]
    m = aggregate(results)
    assert m["llm_answer_share"] == 0.5 and m["llm_sentences_kept"] == 3 / 8
    assert aggregate(results[2:])["llm_answer_share"] is None  # the extractive backend: not measured
