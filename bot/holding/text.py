"""Holdings in words: read from an investor's questions, described in a sentence, printed for a terminal."""

from __future__ import annotations

import re

from bot.analysis import merge_history
from bot.holding.models import ASSET_LABELS, COMING_MONTHS, CONCERNS, PAST_MONTHS, Cell, Holding, HoldingReport

_SELF_CUSTODY = re.compile(
    r"self[- ]custody|own wallet|hardware wallet|cold (wallet|storage)|private keys?|seed phrase"
)


def prefill(questions: list[str]) -> dict[str, str]:
    """Holding fields read from an investor's own words, as the chat's "What I understood" reads them (earlier
    questions first); fields the words do not settle are left out."""
    questions = [q for q in questions if q.strip()]
    if not questions:
        return {}
    profile, _ = merge_history(questions[:-1], questions[-1])
    values: dict[str, str] = {}
    for field, value in (
        ("residence", profile.residence),
        ("citizenship", profile.citizenship),
        ("platform", profile.platform_location),
    ):
        if value in ("UK", "US"):
            values[field] = value
    assets = set(profile.asset_types)
    if "etn_etp" in assets:
        values["asset"] = "crypto_etn"
    elif "stablecoin" in assets:
        values["asset"] = "gbp_stablecoin" if profile.issuer_location == "UK" else "usd_stablecoin"
    elif assets & {"bitcoin", "ether", "token", "meme_coin"}:
        values["asset"] = "crypto"
    if _SELF_CUSTODY.search(" ".join(questions).lower()):
        values["custody"] = "self"
    return values


def describe_holding(holding: Holding) -> str:
    """The holding in one sentence."""
    where = {"UK": "in the UK", "US": "in the US", "elsewhere": "outside the UK and the US"}
    citizen = {
        "UK": "a UK citizen",
        "US": "a US citizen",
        "both": "a UK and US citizen",
        "other": "neither a UK nor a US citizen",
    }
    regulated = {True: "registered or authorised", False: "not registered or authorised", None: "registration unknown"}
    custody = "held on the platform" if holding.custody == "exchange" else "held in your own wallet"
    return (
        f"You live {where[holding.residence]} and are {citizen[holding.citizenship]}; the platform is "
        f"{where[holding.platform]} ({regulated[holding.platform_regulated]}); the asset is "
        f"{ASSET_LABELS[holding.asset]}, {custody}."
    )


def _cell_lines(cell: Cell) -> list[str]:
    label = {"applies": "APPLIES", "nothing_applies": "NOTHING APPLIES", "missing": "MISSING"}[cell.state]
    lines = [f"  {cell.side}: {label}. {cell.reason}"]
    for quote in cell.quotes:
        lines.append(f'    "{quote.text}"')
        lines.append(
            f'      {quote.publisher}, {quote.title}, section "{quote.section}" ({quote.locator}); '
            f"{quote.status_label}; {quote.url}"
        )
    return lines


def holding_text(report: HoldingReport) -> str:
    """The report as plain text for a terminal."""
    lines = [f"My holding, as of {report.as_of.isoformat()}", report.summary, ""]
    for concern, row in report.matrix.items():
        lines.append(CONCERNS[concern])
        for cell in row.values():
            lines.extend(_cell_lines(cell))
        lines.append("")
    window = f"{PAST_MONTHS} months before and {COMING_MONTHS} months after {report.as_of.isoformat()}"
    lines.append(f"Timeline ({window})")
    if not report.timeline:
        lines.append("  No dated events reach this holding in that window.")
    for event in report.timeline:
        when = "past" if event.past else "coming"
        lines.append(f"  {event.date.isoformat()} [{when}] {event.text}")
        lines.append(
            f"      {event.quote.publisher}: {event.quote.title} ({event.quote.status_label}) {event.quote.url}"
        )
    lines.extend(["", report.notice])
    return "\n".join(lines)
