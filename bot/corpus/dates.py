"""Dates in corpus prose: the first date a phrase names, "as of" claims, and the date a section starts."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.text import MONTH_NAMES, split_sentences

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


def section_start(heading: str) -> dt.date | None:
    """The start date a section heading names: '... from 25 October 2027' or '... on 25 October 2027'."""
    for match in _STARTS.finditer(heading):
        found = _DATE.match(heading, match.end())
        if found is not None:
            dated = first_date(found.group(0))
            return dated[0] if dated else None
    return None
