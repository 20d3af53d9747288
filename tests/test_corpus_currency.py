"""Corpus currency: dated "as of" claims, statuses that must change, and the review report."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from bot.corpus.currency import currency_problems
from bot.corpus.dates import first_date, section_start
from bot.corpus.review import build_review, review_text
from tests.test_corpus_validation import GOOD

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
TODAY = dt.date(2026, 11, 24)

DOC = GOOD  # the same small valid document as the validation tests
SENTENCE_LINE = 17  # 'The FCA's test rule says something exact about scams.'
STATUS_LINE = 10


def write(folder: Path, text: str, name: str = "doc") -> Path:
    path = folder / "uk" / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text.format(id=name)))
    return folder


def test_the_bundled_corpus_is_current() -> None:
    """Fails with file:line and the fix; the start-date checks use today's date (the build date)."""
    problems = currency_problems(CORPUS)
    assert not problems, "\n".join(str(p) for p in problems)


@pytest.mark.parametrize(
    ("changes", "today", "line", "message"),
    [
        # an 'as of' claim later than the evidence date (published, when there is no evidence_date)
        (
            [("something exact about scams.", "something exact about scams. As of March 2026, no firm had applied.")],
            TODAY,
            SENTENCE_LINE,
            "'As of March 2026' (from 2026-03-01) is later than the document's evidence date 2025-01-01 ('published')",
        ),
        (
            [("something exact about scams.", "As of mid-2026, the rule had not changed.")],
            TODAY,
            SENTENCE_LINE,
            "'As of mid-2026' (from 2026-06-01) is later",
        ),
        (
            [
                ("reviewed: 2026-11-20", "reviewed: 2026-11-20\nevidence_date: 2026-05-31"),
                ("something exact about scams.", "As of mid-2026, the rule had not changed."),
            ],
            TODAY,
            SENTENCE_LINE + 1,
            "evidence date 2026-05-31 ('evidence_date')",
        ),
        (
            [("## Cross-border (paragraph 2(a))", "## Cross-border (status as of the latest evidence, late 2026)")],
            TODAY,
            19,
            "'as of the latest evidence, late 2026' (from 2026-09-01) is later",
        ),
        (
            [("something exact about scams.", "As of the latest reports, the FCA had not acted.")],
            TODAY,
            SENTENCE_LINE,
            "'As of the latest reports' gives no date: state the date of the evidence",
        ),
        # non-binding documents marked as law
        ([("doc_type: guidance", "doc_type: consultation")], TODAY, STATUS_LINE, "status in_force on a consultation"),
        (
            [("doc_type: guidance", "doc_type: recommendation")],
            TODAY,
            STATUS_LINE,
            "a recommendation is not law, so use status proposed or consultation",
        ),
        (
            [
                ("doc_type: guidance", "doc_type: statement_of_intent"),
                ("status: in_force", "effective: 2027-01-01\nstatus: not_yet_in_force"),
            ],
            TODAY,
            STATUS_LINE + 1,
            "status not_yet_in_force on a statement_of_intent",
        ),
        # a status that should have changed by the build date
        (
            [("status: in_force", "effective: 2026-11-23\nstatus: not_yet_in_force")],
            TODAY,
            STATUS_LINE + 1,
            "status not_yet_in_force but 'effective' 2026-11-23 has passed (as of 2026-11-24): re-check the source",
        ),
        (
            [
                (
                    "## What the rule says (paragraph 1.1)\n",
                    "## What changes from 1 October 2026 (paragraph 1.1)\nStatus: not_yet_in_force\n",
                )
            ],
            TODAY,
            16,
            "section 'What changes from 1 October 2026' has 'Status: not_yet_in_force' but the start date in its "
            "heading, 2026-10-01, has passed",
        ),
        (
            [("status: in_force", "effective: 2026-12-01\nstatus: in_force")],
            TODAY,
            STATUS_LINE + 1,
            "status in_force but 'effective' 2026-12-01 is after 'reviewed' 2026-11-20",
        ),
        (
            [("status: in_force", "until: 2026-11-01\nstatus: in_force")],
            TODAY,
            STATUS_LINE + 1,
            "status in_force but 'until' 2026-11-01 has passed (as of 2026-11-24)",
        ),
    ],
)
def test_currency_problems_name_file_line_and_fix(
    tmp_path: Path, changes: list[tuple[str, str]], today: dt.date, line: int, message: str
) -> None:
    text = DOC
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    problems = currency_problems(write(tmp_path, text), today)
    assert any(message in p.message for p in problems), problems
    hit = next(p for p in problems if message in p.message)
    assert (hit.path.replace("\\", "/").split("/")[-2:], hit.line) == (["uk", "doc.md"], line), hit
    assert f"doc.md:{line}: " in str(hit)


@pytest.mark.parametrize(
    "changes",
    [
        [],
        # within the evidence: the month of the source, or earlier
        [("something exact about scams.", "As of January 2025, no firm had applied.")],
        [("something exact about scams.", "As of 2024, no firm had applied.")],
        [
            ("reviewed: 2026-11-20", "reviewed: 2026-11-20\nevidence_date: 2026-08-14  # the page's 'last updated'"),
            ("something exact about scams.", "As of August 2026, no firm had applied."),
        ],
        # 'as at' without a date is not a claim; 'as of' the document's own effective date states the rule
        [("something exact about scams.", "A UK investor abroad has the same protection as at home.")],
        [
            ("status: in_force", "effective: 2025-06-01\nstatus: in_force"),
            ("something exact about scams.", "Firms report balances held as of 1 June 2025."),
        ],
        # a start date still to come, and a consultation that is only proposed
        [("status: in_force", "effective: 2027-10-25\nstatus: not_yet_in_force")],
        [
            (
                "## What the rule says (paragraph 1.1)\n",
                "## What changes from 25 October 2027 (paragraph 1.1)\nStatus: not_yet_in_force\n",
            )
        ],
        [("doc_type: guidance", "doc_type: consultation"), ("status: in_force", "status: proposed")],
    ],
)
def test_current_documents_pass(tmp_path: Path, changes: list[tuple[str, str]]) -> None:
    text = DOC
    for old, new in changes:
        text = text.replace(old, new)
    assert currency_problems(write(tmp_path, text), TODAY) == []


def test_a_passed_start_date_fails_only_from_that_day(tmp_path: Path) -> None:
    text = DOC.replace("status: in_force", "effective: 2027-01-18\nstatus: not_yet_in_force")
    root = write(tmp_path, text)
    assert currency_problems(root, dt.date(2027, 1, 17)) == []
    (problem,) = currency_problems(root, dt.date(2027, 1, 18))
    assert "'effective' 2027-01-18 has passed (as of 2027-01-18)" in problem.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mid-2026", dt.date(2026, 6, 1)),
        ("early July 2026", dt.date(2026, 7, 1)),
        ("late 2026", dt.date(2026, 9, 1)),
        ("the end of 2026", dt.date(2026, 12, 1)),
        ("1 January 2025", dt.date(2025, 1, 1)),
        ("January 18, 2027", dt.date(2027, 1, 18)),
        ("2026-08-14", dt.date(2026, 8, 14)),
        ("Q3 2026", dt.date(2026, 7, 1)),
        ("autumn 2027", dt.date(2027, 9, 1)),
        ("June to July 2026", dt.date(2026, 7, 1)),
        ("the latest evidence", None),
    ],
)
def test_first_date_is_the_earliest_day_meant(text: str, expected: dt.date | None) -> None:
    found = first_date(text)
    assert (found[0] if found else None) == expected


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Complaints about crypto firms from 25 October 2027", dt.date(2027, 10, 25)),
        ("What changes on 25 October 2027", dt.date(2027, 10, 25)),
        ("Holding limits: proposed in 2025, dropped in 2026", None),
        ("Final outcome", None),
    ],
)
def test_section_start_reads_the_heading(heading: str, expected: dt.date | None) -> None:
    assert section_start(heading) == expected


def test_review_orders_what_to_recheck_first(tmp_path: Path) -> None:
    write(
        tmp_path,
        DOC.replace("reviewed: 2026-11-20", "reviewed: 2026-01-10").replace(
            "something exact about scams.", "something exact about scams. As of December 2025, no firm had applied."
        ),
        "old-doc",
    )
    write(
        tmp_path,
        DOC.replace("status: in_force", "effective: 2027-01-18\nstatus: not_yet_in_force").replace(
            "## What the rule says (paragraph 1.1)\n",
            "## What the rule says (paragraph 1.1)\nStatus: not_yet_in_force\n",
        ),
        "new-doc",
    )
    review = build_review(tmp_path, dt.date(2026, 12, 1))
    assert [d["id"] for d in review.documents] == ["old-doc", "new-doc"]  # oldest review first
    assert review.documents[0]["days_since_review"] == (dt.date(2026, 12, 1) - dt.date(2026, 1, 10)).days
    assert [(c.date, c.line) for c in review.status_changes] == [(dt.date(2027, 1, 18), 11)]
    assert [(u.section, u.line) for u in review.undated_sections] == [("What the rule says", 17)]
    (claim,) = review.as_of_claims
    assert (claim.path.endswith("old-doc.md"), claim.line, claim.date) == (True, SENTENCE_LINE, dt.date(2025, 12, 1))
    assert claim.sentence == "As of December 2025, no firm had applied."
    assert [(u["line"], u["url"]) for u in review.urls] == [(8, "https://www.fca.org.uk/test")] * 2
    assert review.problems  # the December 2025 claim is later than the evidence (published 2025-01-01)
    text = review_text(review)
    assert "2027-01-18  " in text and "old-doc.md:17: As of December 2025" in text
    assert build_review(tmp_path, dt.date(2026, 9, 1)).status_changes == []  # more than 90 days ahead


def test_evidence_date_survives_the_index_and_older_builds_still_load(tmp_path: Path) -> None:
    from bot.corpus import load_corpus
    from bot.index import _doc_from_json, _doc_to_json

    write(tmp_path, DOC.replace("reviewed: 2026-11-20", "reviewed: 2026-11-20\nevidence_date: 2026-08-14"))
    (document,) = load_corpus(tmp_path, TODAY)
    assert document.evidence_date == document.evidence_as_of == dt.date(2026, 8, 14)
    saved = _doc_to_json(document)
    assert _doc_from_json(saved) == document
    older = {key: value for key, value in saved.items() if key != "evidence_date"}
    assert _doc_from_json(older).evidence_as_of == document.published
