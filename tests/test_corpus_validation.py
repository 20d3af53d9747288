"""Corpus loading and validation: malformed files fail with their path, line and problem."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from bot.corpus import load_corpus, parse_document, split_locator
from bot.errors import CorpusError

TODAY = dt.date(2026, 11, 24)

GOOD = """\
---
id: {id}
title: "A test document"
jurisdiction: UK
publisher: FCA
doc_type: guidance
reference: TEST/1
url: https://www.fca.org.uk/test
published: 2025-01-01
status: in_force
reviewed: 2026-11-20
topics: [scams]
---

## What the rule says (paragraph 1.1)

The FCA's test rule says something exact about scams.

## Cross-border (paragraph 2(a))

The FCA's test rule reaches firms outside the UK.
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / "uk" / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_a_good_document_parses_with_sections_and_anchors(tmp_path: Path) -> None:
    write(tmp_path, "good-doc", GOOD.format(id="good-doc"))
    (document,) = load_corpus(tmp_path, TODAY)
    assert document.id == "good-doc"
    assert [s.heading for s in document.sections] == ["What the rule says", "Cross-border"]
    assert document.sections[1].locator == "paragraph 2(a)"
    assert document.sections[1].anchor == "cross-border"
    assert document.sections[1].is_cross_border
    assert document.sections[0].line == 15
    assert len(document.content_hash) == 64


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (("jurisdiction: UK", "jurisdiction: FR"), 4, "unknown jurisdiction 'FR'"),
        (("status: in_force", "status: live"), 10, "unknown status 'live'"),
        (("url: https://www.fca.org.uk/test\n", ""), 1, "missing required field 'url'"),
        (("url: https://www.fca.org.uk/test", "url: https://example.com/x"), 8, "not an https URL on an official"),
        (("published: 2025-01-01", "published: 2027-01-01"), 9, "is in the future"),
        (("reviewed: 2026-11-20", "reviewed: 20/11/2026"), 11, "must be a date written YYYY-MM-DD"),
        (("published: 2025-01-01", "published: 2024-13-45"), 9, "must be a date written YYYY-MM-DD"),
        (("published: 2025-01-01", "published: 2025-02-30T10:00:00"), 9, "must be a date written YYYY-MM-DD"),
        (("topics: [scams]", "topics: [gossip]"), 12, "unknown topic 'gossip'"),
        (("publisher: FCA", "publisher: SEC"), 5, "belongs to US, not UK"),
        (("## What the rule says (paragraph 1.1)", "## What the rule says"), 15, "must end with its source locator"),
        (('title: "A test document"', 'title: "unclosed'), 3, "not valid YAML"),
        (("status: in_force", "status: superseded"), 10, "needs 'until'"),
        (("status: in_force", "status: not_yet_in_force"), 10, "needs 'effective'"),
        (("reference: TEST/1", "colour: blue"), 7, "unknown field 'colour'"),
        (("reviewed: 2026-11-20", "reviewed: 2026-11-20\nevidence_date: 2026-11-21"), 12, "is after 'reviewed'"),
        (("reviewed: 2026-11-20", "reviewed: 2026-11-20\nevidence_date: 2024-12-31"), 12, "is before 'published'"),
        (("reviewed: 2026-11-20", "reviewed: 2026-11-20\nevidence_date: mid-2026"), 12, "written YYYY-MM-DD"),
        (
            ("## What the rule says (paragraph 1.1)\n", "## What the rule says (paragraph 1.1)\nStatus: draft\n"),
            16,
            "unknown section status 'draft'",
        ),
        (("something exact about scams.", "something exact about scams.\nQ:"), 18, "empty 'Q:' line"),
    ],
)
def test_malformed_documents_name_file_line_and_problem(
    tmp_path: Path, change: tuple[str, str], line: int, message: str
) -> None:
    text = GOOD.format(id="bad-doc").replace(*change)
    path = write(tmp_path, "bad-doc", text)
    with pytest.raises(CorpusError) as raised:
        load_corpus(tmp_path, TODAY)
    problems = raised.value.problems
    assert any(message in p.message for p in problems), problems
    hit = next(p for p in problems if message in p.message)
    assert hit.line == line
    assert hit.path.endswith("uk/bad-doc.md")
    assert f"bad-doc.md:{line}:" in str(raised.value)
    assert path.exists()


def test_investor_questions_and_section_status_are_read_not_quoted(tmp_path: Path) -> None:
    text = (
        GOOD.format(id="q-doc")
        .replace(
            "## What the rule says (paragraph 1.1)\n",
            "## What the rule says (paragraph 1.1)\nStatus: consultation\n",
        )
        .replace(
            "something exact about scams.\n",
            "something exact about scams.\n\nQ: Is this scam rule real?\nQ: Who does the scam rule cover?\n",
        )
    )
    write(tmp_path, "q-doc", text)
    (document,) = load_corpus(tmp_path, TODAY)
    first, second = document.sections
    assert first.questions == ("Is this scam rule real?", "Who does the scam rule cover?")
    assert first.status == "consultation" and second.status is None
    assert "Q:" not in first.text and "Status:" not in first.text


def test_missing_front_matter_and_non_utf8(tmp_path: Path) -> None:
    write(tmp_path, "plain", "## Heading (x)\n\nText.\n")
    (tmp_path / "uk" / "binary.md").write_bytes(b"---\nid: \xff\xfe\n---\n")
    with pytest.raises(CorpusError) as raised:
        load_corpus(tmp_path, TODAY)
    messages = " ".join(str(p) for p in raised.value.problems)
    assert "plain.md:1: missing front matter" in messages
    assert "binary.md:1: not UTF-8" in messages


def test_duplicate_ids_and_id_file_name_mismatch(tmp_path: Path) -> None:
    write(tmp_path, "one", GOOD.format(id="one"))
    other = tmp_path / "us" / "one.md"
    other.parent.mkdir()
    other.write_text(GOOD.format(id="one"))
    write(tmp_path, "two", GOOD.format(id="three"))
    with pytest.raises(CorpusError) as raised:
        load_corpus(tmp_path, TODAY)
    messages = " ".join(p.message for p in raised.value.problems)
    assert "duplicate id 'one'" in messages
    assert "must equal the file name 'two'" in messages


def test_text_before_first_section_is_an_error(tmp_path: Path) -> None:
    text = GOOD.format(id="pre").replace("## What the rule says", "Loose text.\n\n## What the rule says")
    write(tmp_path, "pre", text)
    document, problems = parse_document(tmp_path / "uk" / "pre.md", TODAY)
    assert document is None
    assert any("text before the first" in p.message and p.line == 15 for p in problems)


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Cooling-off (COBS 4.12A)", ("Cooling-off", "COBS 4.12A")),
        ("Reserves (section 4(a)(1))", ("Reserves", "section 4(a)(1)")),
        ("Who (FAQ 3) is covered (FAQ 4)", ("Who (FAQ 3) is covered", "FAQ 4")),
        ("No locator", None),
        ("(only a locator)", None),
        ("Unbalanced (x", None),
    ],
)
def test_split_locator(heading: str, expected: tuple[str, str] | None) -> None:
    assert split_locator(heading) == expected
