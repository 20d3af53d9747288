"""Score "My holding" reports against a holdings file (`bot eval --holdings FILE`).

The file format and the three scores (cell accuracy, gap recall, timeline recall) are described in
docs/holding.md ("Evaluating it"): one JSON object per line with the holding, the expected cells, gaps and dated events.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.errors import BotError
from bot.holding import CONCERNS, Cell, Holding, HoldingReport


class HoldingEvalError(BotError):
    """A holdings file cannot be read."""

    code = "invalid_holdings_file"


class ExpectedCell(BaseModel):
    model_config = ConfigDict(extra="forbid")

    applies: bool
    sources: list[str] = Field(default_factory=list)
    mention: list[str] = Field(default_factory=list)


class ExpectedGap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    concern: Literal[
        "platform_failure",
        "issuer_failure",
        "complaints",
        "supervision",
        "tax",
        "tax_reporting",
        "marketing",
        "fraud_reporting",
    ]
    mention: list[str] = Field(default_factory=list)


class ExpectedEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: dt.date
    mention: list[str] = Field(default_factory=list)


class HoldingCase(BaseModel):
    """One line of a holdings file."""

    model_config = ConfigDict(extra="forbid")

    id: str
    as_of: dt.date
    holding: Holding
    cells: dict[str, dict[Literal["UK", "US"], ExpectedCell]] = Field(default_factory=dict)
    gaps: list[ExpectedGap] = Field(default_factory=list)
    timeline: list[ExpectedEvent] = Field(default_factory=list)
    notes: str = ""


def load_cases(path: Path) -> list[HoldingCase]:
    """The holdings of a JSONL file; blank lines and lines starting with '#' are skipped."""
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            case = HoldingCase.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise HoldingEvalError(f"{path}:{number}: not a valid holding line ({exc}); see docs/holding.md") from exc
        unknown = set(case.cells) - set(CONCERNS)
        if unknown:
            raise HoldingEvalError(f"{path}:{number}: unknown concern(s) {sorted(unknown)}; use {', '.join(CONCERNS)}")
        cases.append(case)
    return cases


def normalise_url(url: str) -> str:
    """Lower-cased, without scheme, 'www.', query, fragment or trailing slash."""
    parsed = urlparse(url.strip().lower())
    host = parsed.netloc.removeprefix("www.")
    return (host + parsed.path).rstrip("/")


def mentions(text: str, terms: list[str]) -> bool:
    """Every term is in text (case-insensitive); 'A | B' means either."""
    lowered = text.lower()
    return all(any(option.strip().lower() in lowered for option in term.split("|")) for term in terms)


def cell_text(cell: Cell) -> str:
    """What a cell says: its reason and its quoted sentences (nothing for a missing cell)."""
    if cell.state == "missing":
        return ""
    return " ".join([cell.reason, *(q.text for q in cell.quotes)])


def cell_problem(expected: ExpectedCell, cell: Cell | None) -> str | None:
    """Why a cell does not match its expectation, or None."""
    if cell is None or cell.applies is None:
        return "missing"
    if cell.applies != expected.applies:
        return f"applies is {cell.applies}, expected {expected.applies}"
    if expected.sources:
        cited = {normalise_url(q.url) for q in cell.quotes}
        if not cited & {normalise_url(u) for u in expected.sources}:
            return "none of the expected sources is cited"
    if not mentions(cell_text(cell), expected.mention):
        return f"does not mention {expected.mention}"
    return None


class CaseResult(BaseModel):
    id: str
    cells: int
    cells_correct: int
    cells_state_right: int = 0  # applies / nothing applies as expected
    cells_content_right: int = 0  # ... and the expected terms mentioned, whichever official page is cited
    gaps: int
    gaps_found: int
    events: int
    events_found: int
    problems: list[str]


def score_case(case: HoldingCase, report: HoldingReport) -> CaseResult:
    """Compare one report with its expected cells, gaps and events."""
    problems = []
    cells = correct = state_right = content_right = 0
    for concern, sides in case.cells.items():
        for side, expected in sides.items():
            cells += 1
            cell = report.matrix.get(concern, {}).get(side)
            if cell is not None and cell.applies is not None and cell.applies == expected.applies:
                state_right += 1
                content_right += mentions(cell_text(cell), expected.mention)
            problem = cell_problem(expected, cell)
            if problem:
                problems.append(f"{concern}/{side}: {problem}")
            else:
                correct += 1
    gaps_found = 0
    for gap in case.gaps:
        cell = report.matrix.get(gap.concern, {}).get("gap")
        if cell is not None and cell.state != "missing" and mentions(cell_text(cell), gap.mention):
            gaps_found += 1
        else:
            problems.append(f"gap {gap.concern}: no gap text mentioning {gap.mention}")
    events_found = 0
    for event in case.timeline:
        texts = [f"{e.text} {e.quote.text}" for e in report.timeline if e.date == event.date]
        if any(mentions(text, event.mention) for text in texts):
            events_found += 1
        else:
            problems.append(f"timeline {event.date.isoformat()}: no event mentioning {event.mention}")
    return CaseResult(
        id=case.id,
        cells=cells,
        cells_correct=correct,
        cells_state_right=state_right,
        cells_content_right=content_right,
        gaps=len(case.gaps),
        gaps_found=gaps_found,
        events=len(case.timeline),
        events_found=events_found,
        problems=problems,
    )


class HoldingScores(BaseModel):
    cases: int
    cell_accuracy: float | None
    cell_state_accuracy: float | None = Field(None, description="applies / nothing applies right, sources ignored")
    cell_content_accuracy: float | None = Field(
        None, description="state right and the expected terms mentioned, whichever official page is cited"
    )
    gap_recall: float | None
    timeline_recall: float | None
    results: list[CaseResult]


def _share(found: int, total: int) -> float | None:
    return round(found / total, 4) if total else None


def score_holdings(cases: list[HoldingCase], build: Callable[[Holding, dt.date], HoldingReport]) -> HoldingScores:
    """Build each case's report with `build(holding, as_of)` and score them all."""
    results = [score_case(case, build(case.holding, case.as_of)) for case in cases]
    return HoldingScores(
        cases=len(results),
        cell_accuracy=_share(sum(r.cells_correct for r in results), sum(r.cells for r in results)),
        cell_state_accuracy=_share(sum(r.cells_state_right for r in results), sum(r.cells for r in results)),
        cell_content_accuracy=_share(sum(r.cells_content_right for r in results), sum(r.cells for r in results)),
        gap_recall=_share(sum(r.gaps_found for r in results), sum(r.gaps for r in results)),
        timeline_recall=_share(sum(r.events_found for r in results), sum(r.events for r in results)),
        results=results,
    )


def summary_lines(scores: HoldingScores) -> list[str]:
    """The scores and every miss, for a terminal."""

    def figure(name: str, value: float | None, found: int, total: int) -> str:
        shown = "n/a" if value is None else f"{value:.1%}"
        return f"{name}: {shown} ({found}/{total})"

    results = scores.results
    lines = [
        f"holdings: {scores.cases}",
        figure(
            "cell accuracy", scores.cell_accuracy, sum(r.cells_correct for r in results), sum(r.cells for r in results)
        ),
        figure(
            "  state right (sources ignored)",
            scores.cell_state_accuracy,
            sum(r.cells_state_right for r in results),
            sum(r.cells for r in results),
        ),
        figure(
            "  state and terms right (any page)",
            scores.cell_content_accuracy,
            sum(r.cells_content_right for r in results),
            sum(r.cells for r in results),
        ),
        figure("gap recall", scores.gap_recall, sum(r.gaps_found for r in results), sum(r.gaps for r in results)),
        figure(
            "timeline recall",
            scores.timeline_recall,
            sum(r.events_found for r in results),
            sum(r.events for r in results),
        ),
    ]
    for result in results:
        lines.extend(f"  {result.id} {problem}" for problem in result.problems)
    return lines
