"""The report of `bot corpus review`: what to re-check first. Reads corpus files only: no index, no model."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.corpus import load_corpus
from bot.corpus.currency import HORIZON_DAYS, StatusDate, file_claims, file_problems, file_status_dates, read_files
from bot.corpus.dates import AsOfClaim
from bot.errors import CorpusProblem


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
    files = read_files(load_corpus(root), root)
    review = Review(as_of=as_of, horizon_days=horizon_days)
    horizon = as_of + dt.timedelta(days=horizon_days)
    for corpus_file in files:
        document = corpus_file.document
        review.problems.extend(file_problems(corpus_file, as_of))
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
        for change in file_status_dates(corpus_file):
            if change.date is None:
                review.undated_sections.append(change)
            elif as_of < change.date <= horizon:
                review.status_changes.append(change)
        review.as_of_claims.extend(file_claims(corpus_file))
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
