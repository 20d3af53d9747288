"""Is the corpus still current? Dated "as of" claims, statuses that must change, and what to re-check first.

`currency_problems` is what the corpus tests fail on; `build_review` is the report of `bot corpus review`.
Both read corpus files only: no index, no embedding model.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.corpus import corpus_files, load_corpus
from bot.errors import CorpusProblem
from bot.text import MONTH_NAMES, split_sentences
from bot.types import Document

# Document types that never make law: their status is proposed, consultation, superseded or withdrawn.
NON_BINDING_DOC_TYPES = ("consultation", "recommendation", "statement_of_intent")
HORIZON_DAYS = 90  # how far ahead the review looks for status changes

_MONTH = "(?:" + "|".join(MONTH_NAMES) + ")"
# A vague period counts from its earliest day, so that a claim is only flagged when it must be later.
_PERIOD_MONTH = {"early": 1, "mid": 6, "late": 9, "end of": 12, "the end of": 12}
_SEASON_MONTH = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}
_DATE = re.compile(
    r"(?P<iso>\b(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})\b)"
    rf"|(?P<dmy>\b(?P<d1>\d{{1,2}}) (?P<m1>{_MONTH}) (?P<y1>\d{{4}})\b)"
    rf"|(?P<mdy>\b(?P<m2>{_MONTH}) (?P<d2>\d{{1,2}}), (?P<y2>\d{{4}})\b)"
    rf"|(?P<my>\b(?P<m3>{_MONTH}),? (?P<y3>\d{{4}})\b)"
    r"|(?P<py>\b(?P<p>early|mid|late|the end of|end of)[ -](?P<y4>\d{4})\b)"
    r"|(?P<sy>\b(?P<s>spring|summer|autumn|fall|winter) (?P<y5>\d{4})\b)"
    r"|(?P<qy>\bQ(?P<q>[1-4]) (?P<y6>\d{4})\b)"
    r"|(?P<year>\b(?P<y7>(?:19|20)\d{2})\b)",
    re.IGNORECASE,
)
_AS_OF = re.compile(r"\bas (?P<word>of|at)\s+", re.IGNORECASE)
_STARTS = re.compile(r"\b(?:from|on|starts?|starting|begins?|after)\s+", re.IGNORECASE)


def first_date(text: str) -> tuple[dt.date, str] | None:
    """The earliest day meant by the first date in text ('mid-2026' is 2026-06-01), with its words."""
    for match in _DATE.finditer(text):
        groups = match.groupdict()
        try:
            if groups["iso"]:
                day = dt.date(int(groups["iy"]), int(groups["im"]), int(groups["id"]))
            elif groups["dmy"]:
                day = dt.date(int(groups["y1"]), _month(groups["m1"]), int(groups["d1"]))
            elif groups["mdy"]:
                day = dt.date(int(groups["y2"]), _month(groups["m2"]), int(groups["d2"]))
            elif groups["my"]:
                day = dt.date(int(groups["y3"]), _month(groups["m3"]), 1)
            elif groups["py"]:
                day = dt.date(int(groups["y4"]), _PERIOD_MONTH[groups["p"].lower()], 1)
            elif groups["sy"]:
                day = dt.date(int(groups["y5"]), _SEASON_MONTH[groups["s"].lower()], 1)
            elif groups["qy"]:
                day = dt.date(int(groups["y6"]), 3 * int(groups["q"]) - 2, 1)
            else:
                day = dt.date(int(groups["y7"]), 1, 1)
        except ValueError:  # 31 February and the like: not a date
            continue
        return day, match.group(0)
    return None


def _month(name: str) -> int:
    return MONTH_NAMES.index(name.lower()) + 1


def _clause(text: str, start: int) -> tuple[str, int]:
    """The words from start to the end of their clause: a comma, semicolon or colon outside brackets, a full
    stop, or a bracket that closes one opened before start."""
    depth = 0
    for position in range(start, len(text)):
        char = text[position]
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return text[start:position], position
            depth -= 1
        elif depth == 0 and (
            char in ",;:" or (char in ".!?" and (position + 1 == len(text) or text[position + 1].isspace()))
        ):
            return text[start:position], position
    return text[start:], len(text)


@dataclass(frozen=True)
class AsOfClaim:
    """A sentence that states the position 'as of' a date."""

    path: str
    line: int
    phrase: str  # 'as of mid-2026'
    date: dt.date | None  # the earliest day the phrase means; None when it gives no date
    sentence: str
    evidence_date: dt.date  # the document's evidence date (evidence_date, else published)


def as_of_claims(text: str) -> list[tuple[str, dt.date | None, str]]:
    """The 'as of' phrases of one line: (phrase, earliest day meant or None, sentence)."""
    claims: list[tuple[str, dt.date | None, str]] = []
    for match in _AS_OF.finditer(text):
        clause, end = _clause(text, match.end())
        found = first_date(clause)
        if found is None and end < len(text) and text[end] == ",":
            following, _ = _clause(text, end + 1)  # '(status as of the latest evidence, mid-2026)'
            if len(following.split()) <= 3 and (found := first_date(following)) is not None:
                clause = f"{clause},{following}"
        if found is None and match.group("word").lower() == "at":
            continue  # 'as at home': 'as at' is a claim only with a date
        phrase = f"{match.group(0)}{clause}".strip()
        sentence = next((s for s in split_sentences(text) if phrase in s), text.strip())
        claims.append((phrase, found[0] if found else None, sentence))
    return claims


@dataclass(frozen=True)
class _File:
    document: Document
    file: Path
    lines: list[str]
    body_start: int  # 0-based index of the first line after the front matter
    key_lines: dict[str, int]  # front-matter key -> 1-based line


def _read(documents: list[Document], root: Path) -> list[_File]:
    files = {path.stem: path for path in corpus_files(root)}
    read: list[_File] = []
    for document in documents:
        path = files[document.id]
        lines = path.read_text(encoding="utf-8").splitlines()
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
        key_lines: dict[str, int] = {}
        for index in range(1, end):
            match = re.match(r"^([A-Za-z_]+)\s*:", lines[index])
            if match:
                key_lines.setdefault(match.group(1), index + 1)
        read.append(_File(document, path, lines, end + 1, key_lines))
    return read


def _body_lines(corpus_file: _File) -> list[tuple[int, str]]:
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


def _claims(corpus_file: _File) -> list[AsOfClaim]:
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


def _status_line(corpus_file: _File, heading_line: int) -> int:
    for index in range(heading_line, min(heading_line + 3, len(corpus_file.lines))):
        if corpus_file.lines[index].strip().startswith("Status:"):
            return index + 1
    return heading_line


def section_start(heading: str) -> dt.date | None:
    """The start date a section heading names: '... from 25 October 2027' or '... on 25 October 2027'."""
    for match in _STARTS.finditer(heading):
        found = _DATE.match(heading, match.end())
        if found is not None:
            dated = first_date(found.group(0))
            return dated[0] if dated else None
    return None


def _status_dates(corpus_file: _File) -> list[StatusDate]:
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


def _problems(corpus_file: _File, today: dt.date) -> list[CorpusProblem]:
    document = corpus_file.document
    problems: list[CorpusProblem] = []
    evidence_key = "evidence_date" if document.evidence_date else "published"
    for claim in _claims(corpus_file):
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
    for change in _status_dates(corpus_file):
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
    return [problem for corpus_file in _read(load_corpus(root), root) for problem in _problems(corpus_file, today)]


@dataclass
class Review:
    """What a maintainer should re-check first, as of one day."""

    as_of: dt.date
    horizon_days: int
    problems: list[CorpusProblem] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)  # oldest review first
    status_changes: list[StatusDate] = field(default_factory=list)  # due within the horizon, soonest first
    undated_sections: list[StatusDate] = field(default_factory=list)  # not_yet_in_force with no start date
    as_of_claims: list[AsOfClaim] = field(default_factory=list)  # oldest date first, undated first of all
    urls: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """One JSON-ready object."""

        def day(value: dt.date | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "as_of": day(self.as_of),
            "horizon_days": self.horizon_days,
            "problems": [{"path": p.path, "line": p.line, "message": p.message} for p in self.problems],
            "documents": self.documents,
            "status_changes": [{**vars(s), "date": day(s.date)} for s in self.status_changes],
            "undated_sections": [{**vars(s), "date": None} for s in self.undated_sections],
            "as_of_claims": [
                {**vars(c), "date": day(c.date), "evidence_date": day(c.evidence_date)} for c in self.as_of_claims
            ],
            "urls": self.urls,
        }


def build_review(root: Path, as_of: dt.date | None = None, horizon_days: int = HORIZON_DAYS) -> Review:
    """The review report of the corpus under root, as of a day (today by default)."""
    as_of = as_of or dt.date.today()
    files = _read(load_corpus(root), root)
    review = Review(as_of=as_of, horizon_days=horizon_days)
    horizon = as_of + dt.timedelta(days=horizon_days)
    for corpus_file in files:
        document = corpus_file.document
        review.problems.extend(_problems(corpus_file, as_of))
        review.documents.append(
            {
                "id": document.id,
                "path": document.path,
                "reviewed": document.reviewed.isoformat(),
                "days_since_review": (as_of - document.reviewed).days,
                "evidence_date": document.evidence_as_of.isoformat(),
                "days_since_evidence": (as_of - document.evidence_as_of).days,
                "status": document.status,
            }
        )
        for change in _status_dates(corpus_file):
            if change.date is None:
                review.undated_sections.append(change)
            elif as_of < change.date <= horizon:
                review.status_changes.append(change)
        review.as_of_claims.extend(_claims(corpus_file))
        review.urls.append(
            {
                "id": document.id,
                "path": document.path,
                "line": corpus_file.key_lines.get("url", 2),
                "url": document.url,
                "reviewed": document.reviewed.isoformat(),
            }
        )
    review.documents.sort(key=lambda d: (d["reviewed"], d["evidence_date"], d["id"]))
    review.status_changes.sort(key=lambda s: (s.date or as_of, s.path, s.line))
    review.as_of_claims.sort(key=lambda c: (c.date is not None, c.date or as_of, c.path, c.line))
    review.urls.sort(key=lambda u: (u["reviewed"], u["id"]))
    return review


def review_text(review: Review) -> str:
    """The review as plain text, most urgent first."""
    out: list[str] = [f"Corpus review as of {review.as_of}"]
    out.append("")
    out.append(f"Problems ({len(review.problems)}): fix these first")
    out.extend(f"  {p}" for p in review.problems)
    out.append("")
    out.append(f"Status changes due within {review.horizon_days} days ({len(review.status_changes)})")
    for change in review.status_changes:
        where = f" section '{change.section}'" if change.section else ""
        out.append(f"  {change.date}  {change.path}:{change.line}{where}: {change.change}")
    if review.undated_sections:
        out.append("")
        out.append(f"Not-yet-in-force sections whose heading names no start date ({len(review.undated_sections)})")
        out.extend(f"  {s.path}:{s.line} section '{s.section}'" for s in review.undated_sections)
    out.append("")
    out.append(f"Documents by age of review, oldest first ({len(review.documents)})")
    out.append(f"  {'reviewed':10}  {'days':>5}  {'evidence':10}  {'days':>5}  {'status':16}  path")
    for d in review.documents:
        out.append(
            f"  {d['reviewed']:10}  {d['days_since_review']:>5}  {d['evidence_date']:10}  "
            f"{d['days_since_evidence']:>5}  {d['status']:16}  {d['path']}"
        )
    out.append("")
    out.append(f"'As of' claims, oldest evidence first ({len(review.as_of_claims)})")
    for claim in review.as_of_claims:
        out.append(f"  {str(claim.date or 'no date'):10}  {claim.path}:{claim.line}: {claim.sentence}")
    out.append("")
    out.append(f"Source URLs ({len(review.urls)})")
    out.extend(f"  {u['path']}:{u['line']}: {u['url']}" for u in review.urls)
    return "\n".join(out)
