"""Is the corpus still current? The dated problems the corpus tests fail on (`currency_problems`)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from bot.corpus import corpus_files, load_corpus
from bot.corpus.dates import AsOfClaim, as_of_claims, section_start
from bot.errors import CorpusProblem
from bot.types import Document

# Document types that never make law: their status is proposed, consultation, superseded or withdrawn.
NON_BINDING_DOC_TYPES = ("consultation", "recommendation", "statement_of_intent")


HORIZON_DAYS = 90  # how far ahead the review looks for status changes


@dataclass(frozen=True)
class CorpusFile:
    document: Document
    file: Path
    lines: list[str]
    body_start: int  # 0-based index of the first line after the front matter
    key_lines: dict[str, int]  # front-matter key -> 1-based line


def read_files(documents: list[Document], root: Path) -> list[CorpusFile]:
    files = {path.stem: path for path in corpus_files(root)}
    read: list[CorpusFile] = []
    for document in documents:
        path = files[document.id]
        lines = path.read_text(encoding="utf-8").splitlines()
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
        key_lines: dict[str, int] = {}
        for index in range(1, end):
            match = re.match(r"^([A-Za-z_]+)\s*:", lines[index])
            if match:
                key_lines.setdefault(match.group(1), index + 1)
        read.append(CorpusFile(document, path, lines, end + 1, key_lines))
    return read


def _body_lines(corpus_file: CorpusFile) -> list[tuple[int, str]]:
    """(1-based line, text) of the body lines that are quoted: not 'Q:' or 'Status:' lines, not code."""
    kept: list[tuple[int, str]] = []
    in_fence = False
    for index in range(corpus_file.body_start, len(corpus_file.lines)):
        line = corpus_file.lines[index]
        stripped = line.strip()
        if stripped.startswith("```"):
            in_fence = not in_fence
            continue
        if in_fence or not stripped or stripped.startswith(("Q:", "Status:")):
            continue
        kept.append((index + 1, line))
    return kept


def file_claims(corpus_file: CorpusFile) -> list[AsOfClaim]:
    document = corpus_file.document
    return [
        AsOfClaim(document.path, number, phrase, day, sentence, document.evidence_as_of)
        for number, line in _body_lines(corpus_file)
        for phrase, day, sentence in as_of_claims(line.lstrip("#").strip())
    ]


@dataclass(frozen=True)
class StatusDate:
    """A dated status change of a document or of a section with its own 'Status:' line."""

    path: str
    line: int
    doc_id: str
    section: str | None  # the section heading, None for the whole document
    status: str
    change: str  # what happens on date, e.g. 'not_yet_in_force -> in_force'
    date: dt.date | None  # None: a not_yet_in_force section whose heading names no start date


def _status_line(corpus_file: CorpusFile, heading_line: int) -> int:
    for index in range(heading_line, min(heading_line + 3, len(corpus_file.lines))):
        if corpus_file.lines[index].strip().startswith("Status:"):
            return index + 1
    return heading_line


def file_status_dates(corpus_file: CorpusFile) -> list[StatusDate]:
    document = corpus_file.document
    status_line = corpus_file.key_lines.get("status", 2)
    dates: list[StatusDate] = []
    if document.status == "not_yet_in_force" and document.effective:
        change = "not_yet_in_force -> in_force"
        dates.append(
            StatusDate(document.path, status_line, document.id, None, document.status, change, document.effective)
        )
    if document.until and document.status not in ("superseded", "withdrawn"):
        change = f"{document.status} -> superseded or withdrawn"
        dates.append(StatusDate(document.path, status_line, document.id, None, document.status, change, document.until))
    for section in document.sections:
        if section.status == "not_yet_in_force":
            dates.append(
                StatusDate(
                    document.path,
                    _status_line(corpus_file, section.line),
                    document.id,
                    section.heading,
                    section.status,
                    "not_yet_in_force -> in_force",
                    section_start(section.heading),
                )
            )
    return dates


def file_problems(corpus_file: CorpusFile, today: dt.date) -> list[CorpusProblem]:
    """A file's undated or too-late "as of" claims, statuses its own dates contradict, and status changes due."""
    return _claim_problems(corpus_file) + _status_problems(corpus_file) + _overdue_problems(corpus_file, today)


def _claim_problems(corpus_file: CorpusFile) -> list[CorpusProblem]:
    document = corpus_file.document
    problems: list[CorpusProblem] = []
    evidence_key = "evidence_date" if document.evidence_date else "published"
    for claim in file_claims(corpus_file):
        if claim.date is None:
            problems.append(
                CorpusProblem(
                    claim.path,
                    claim.line,
                    f"'{claim.phrase}' gives no date: state the date of the evidence, e.g. 'As of August 2026, ...' "
                    "(the review date alone is not evidence)",
                )
            )
        # 'as of' the document's own effective date states the rule (basis held as of that day), not the position
        elif claim.date > claim.evidence_date and claim.date != document.effective:
            problems.append(
                CorpusProblem(
                    claim.path,
                    claim.line,
                    f"'{claim.phrase}' (from {claim.date}) is later than the document's evidence date "
                    f"{claim.evidence_date} ('{evidence_key}'): date the sentence to the evidence you have, or set "
                    "'evidence_date: YYYY-MM-DD' in the front matter to the date of the latest source that shows it "
                    "(a rule's reference date is not a claim: write 'on <date>' instead of 'as of <date>')",
                )
            )
    return problems


def _status_problems(corpus_file: CorpusFile) -> list[CorpusProblem]:
    document = corpus_file.document
    problems: list[CorpusProblem] = []
    status_line = corpus_file.key_lines.get("status", 2)
    if document.doc_type in NON_BINDING_DOC_TYPES and document.status in ("in_force", "not_yet_in_force"):
        problems.append(
            CorpusProblem(
                document.path,
                status_line,
                f"status {document.status} on a {document.doc_type}: a {document.doc_type} is not law, so use "
                "status proposed or consultation (superseded or withdrawn once replaced), or correct doc_type",
            )
        )
    if document.status == "in_force" and document.effective and document.effective > document.reviewed:
        problems.append(
            CorpusProblem(
                document.path,
                status_line,
                f"status in_force but 'effective' {document.effective} is after 'reviewed' {document.reviewed}: "
                "a status is as of the review, so use not_yet_in_force",
            )
        )
    return problems


def _overdue_problems(corpus_file: CorpusFile, today: dt.date) -> list[CorpusProblem]:
    problems: list[CorpusProblem] = []
    for change in file_status_dates(corpus_file):
        if change.date is None or change.date > today:
            continue
        if change.change.startswith("not_yet_in_force"):
            what = (
                f"section '{change.section}' has 'Status: not_yet_in_force' but the start date in its heading, "
                f"{change.date},"
                if change.section
                else f"status not_yet_in_force but 'effective' {change.date}"
            )
            problems.append(
                CorpusProblem(
                    change.path,
                    change.line,
                    f"{what} has passed (as of {today}): re-check the source; if the rules now apply, make the "
                    "status in_force and reword the sentences that say what 'will' happen; if the start was "
                    "delayed, give the new date",
                )
            )
        else:
            problems.append(
                CorpusProblem(
                    change.path,
                    change.line,
                    f"status {change.status} but 'until' {change.date} has passed (as of {today}): re-check the "
                    "source and set status superseded (with superseded_by) or withdrawn",
                )
            )
    return problems


def currency_problems(root: Path, today: dt.date | None = None) -> list[CorpusProblem]:
    """Every 'as of' claim later than its evidence, non-binding document in force, and overdue status change."""
    today = today or dt.date.today()
    return [
        problem for corpus_file in read_files(load_corpus(root), root) for problem in file_problems(corpus_file, today)
    ]
