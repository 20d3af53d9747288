"""How the web chat shows an answer, as HTML and Markdown: the compact answer (the first point of each side,
"show more" for the rest) whose [n] markers link to the sources panel, and that panel."""

from __future__ import annotations

import html
import re

from bot.render import STATUS_LABELS
from bot.types import Answer, Citation, answer_lines

SECTION_NAMES = {"UK": "UK", "US": "US", "INTL": "International"}


_MARKER = re.compile(r"\[(\d+)\]")
_HEADING_REASON = re.compile(r" \(they reach you .*\)$")


def source_anchor(answer_id: str, number: int) -> str:
    """The id of a source in the panel, which the answer's [n] markers link to."""
    return f"src-{answer_id[:12]}-{number}"


def link_markers(line: str, answer_id: str) -> str:
    """[n] citation markers as links to the answer's sources in the panel."""
    return _MARKER.sub(lambda m: f'<a class="cite" href="#{source_anchor(answer_id, int(m[1]))}">[{m[1]}]</a>', line)


def compact_answer(answer: Answer) -> str:
    """The answer for the chat: what was understood, the lead and the first point of each side;
    the other points under "Show more"; then the notice. Markers link to the sources panel."""
    lines = [link_markers(line, answer.id) for line in answer_lines(answer)]
    shown: list[str] = []
    more: list[str] = []
    heading: str | None = None
    points = 0
    for line in lines:
        if line.startswith("**") and line.endswith("**") and not line.startswith("**What I understood"):
            heading, points = line, 0
            shown.append(line)
        elif line.startswith("- ") and heading is not None:
            points += 1
            if points == 1:
                shown.append(line)
            else:
                if points == 2:
                    more.append(_HEADING_REASON.sub("", heading.strip("*")).join(("**More: ", "**")))
                more.append(line)
        else:
            shown.append(line)
    parts = ["\n\n".join(shown)]
    if more:
        count = sum(1 for line in more if line.startswith("- "))
        summary = f"Show {count} more point{'' if count == 1 else 's'}"
        body = "\n".join(line if line.startswith("- ") else f"\n{line}\n" for line in more)  # tight lists
        parts.append(f'<details class="more"><summary>{summary}</summary>\n\n{body}\n\n</details>')
    parts.append(f"_{answer.notice}_")
    return "\n\n".join(parts)


def _source_item(answer_id: str, number: int, c: Citation) -> str:
    status = STATUS_LABELS.get(c.status, c.status)  # the composer's labels: a proposal says so
    return (
        f'<div class="source" id="{source_anchor(answer_id, number)}" data-citation="{number}">'
        f"<strong>[{number}]</strong> "
        f'<a href="{html.escape(c.url, quote=True)}" target="_blank" rel="noopener noreferrer">'
        f'{html.escape(c.title)}</a><br><span class="meta">{html.escape(c.publisher)} · '
        f"{html.escape(SECTION_NAMES.get(c.jurisdiction, c.jurisdiction))} · section "
        f"\u201c{html.escape(c.section)}\u201d ({html.escape(c.locator)}) · "
        f"{html.escape(status)} · "
        f"published {c.published.isoformat()}</span></div>"
    )


def sources_html(answers: list[Answer] | Answer | None) -> str:
    """The sources panel: each answer's citations (the latest shown; a marker shows its own answer's),
    with links that open the official pages in a new tab."""
    if isinstance(answers, Answer):
        answers = [answers]
    answers = answers or []
    if not answers or not answers[-1].citations:
        note = (
            "This answer cites no sources."
            if answers
            else ("Ask a question: the official sources behind the answer appear here.")
        )
        hidden = "".join(_answer_sources(a, latest=False) for a in answers[:-1])
        return f'<div id="sources-panel"><h2>Sources</h2><p class="empty">{note}</p>{hidden}</div>'
    groups = [_answer_sources(a, latest=i == len(answers) - 1) for i, a in enumerate(answers)]
    return '<div id="sources-panel"><h2>Sources</h2>' + "".join(groups) + "</div>"


def _answer_sources(answer: Answer, latest: bool) -> str:
    if not answer.citations:
        return ""
    items = "".join(_source_item(answer.id, n, c) for n, c in sorted(answer.citations.items()))
    question = html.escape(answer.question if len(answer.question) <= 90 else answer.question[:88] + "…")
    return (
        f'<section class="answer-sources" data-answer="{html.escape(answer.id)}"{"" if latest else " hidden"}>'
        f"<h3>For \u201c{question}\u201d</h3>{items}</section>"
    )
