"""Render an answer for a person: Markdown lines, headings that say how each side's rules reach the
user, status labels and the Sources list."""

from __future__ import annotations

import datetime as dt
import re

from bot.analysis import describe, tax_only
from bot.index import Index
from bot.prompts import ADVICE_POINTER, NOTICE
from bot.text import MONTH_NAMES
from bot.types import PROPOSAL_STATUSES, Citation, Profile, Sentence

STATUS_LABELS = {
    "in_force": "in force",
    "not_yet_in_force": "not yet in force",
    "proposed": "proposal, not law",
    "consultation": "consultation: a proposal, not law",
    "superseded": "superseded",
    "withdrawn": "withdrawn",
}

HEADINGS = {
    "UK": "UK rules",
    "US": "US rules",
    "cross_border": "Across the border",
    "next_steps": "What you can check or do next",
}


def status_text(status: str, effective: dt.date | None) -> str:
    """A source's status for a reader: 'proposal, not law', 'not yet in force, applies from 2027-01-18'..."""
    text = STATUS_LABELS.get(status, status)
    if status == "not_yet_in_force" and effective:
        text += f", applies from {effective.isoformat()}"
    return text


# "Until 25 October 2027, the FCA's warning remains the position": a sentence about the time before a rule
# starts describes today, so it carries no "not yet in force" label.
_BEFORE_START = re.compile(r"^(?:Until|Before|Up to|Pending)\b")
_DAY = re.compile(rf"\b\d{{1,2}} (?:{'|'.join(month.capitalize() for month in MONTH_NAMES)}) \d{{4}}\b")


def _label(citation: Citation, text: str = "") -> str:
    if citation.status in PROPOSAL_STATUSES:
        return " _(proposal, not law)_"
    if citation.status == "not_yet_in_force":
        if _BEFORE_START.search(text):
            return ""
        when = f"{citation.effective:%-d %B %Y}" if citation.effective else ""
        if when and _DAY.search(text) and when not in text:
            when = ""  # the sentence gives its own start date; the document's may be another part's
        return f" _(not yet in force{': applies from ' + when if when else ''})_"
    return ""


def _reason(profile: Profile, jurisdiction: str) -> str:
    reasons = []
    if profile.residence == jurisdiction:
        reasons.append("where you live")
    if profile.citizenship == jurisdiction == "US" and profile.residence != jurisdiction:
        reasons.append("your citizenship")
    if jurisdiction == "US" and profile.green_card and profile.citizenship != "US" and profile.residence != "US":
        reasons.append("your green card")
    tax = tax_only(profile.topics)  # tax follows the person, not where the platform or the issuer is
    if profile.platform_location == jurisdiction and not tax:
        reasons.append("where your platform is")
    if profile.issuer_location == jurisdiction and not tax:
        reasons.append("where the coin is issued")
    return f" (they reach you through {', '.join(reasons)})" if reasons else ""


def render(
    profile: Profile,
    kind: str,
    lead: str,
    sections: dict[str, list[Sentence]],
    citations: dict[int, Citation],
    index: Index,
) -> str:
    """The answer as Markdown for a person."""
    lines: list[str] = []
    if kind != "no_guidance" or profile.intent not in ("out_of_scope", "other_country"):
        answered = [name for name in ("UK", "US") if sections.get(name)] if kind == "answer" else None
        lines.append(f"**What I understood:** {describe(profile, answered)}")
        lines.append("")
    if lead:
        lines.append(lead)
        lines.append("")
    for name in sections:  # in the composer's order: the side that answers the question best first
        if not sections[name]:
            continue
        heading = HEADINGS[name] + (_reason(profile, name) if name in ("UK", "US") else "")
        if kind == "refusal" and name in ("UK", "US", "cross_border"):
            heading = "General guidance: " + heading
        lines.append(f"**{heading}**")
        for sentence in sections[name]:
            markers = "".join(f"[{c}]" for c in sentence.citations)
            labels = "".join(_label(citations[c], sentence.text) for c in sentence.citations)
            lines.append(f"- {sentence.text} {markers}{labels}")
        lines.append("")
    if kind == "refusal":
        lines.append(ADVICE_POINTER)
        lines.append("")
    if citations:
        lines.append("**Sources**")
        for number, citation in citations.items():
            status = status_text(citation.status, citation.effective)
            lines.append(
                f'[{number}] {citation.publisher}: "{citation.title}", section "{citation.section}" '
                f"({citation.locator}) ({status}; published {citation.published.isoformat()}; "
                f"reviewed {citation.reviewed.isoformat()}) {citation.url}"
            )
        lines.append("")
    lines.append(f"_{NOTICE}_")
    return "\n".join(lines)


def understood_line(profile: Profile) -> str:
    return f"**What I understood:** {describe(profile)}"


def section_heading(profile: Profile, name: str) -> str:
    return f"**{HEADINGS[name]}{_reason(profile, name) if name in ('UK', 'US') else ''}**"


def sentence_line(text: str, citations: list[Citation]) -> str:
    markers = "".join(f"[{c.id}]" for c in citations)
    return f"- {text} {markers}{''.join(_label(c, text) for c in citations)}"
