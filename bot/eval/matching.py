"""Text matching for the metrics: `must_mention` / `must_not_say` phrases and "a quote supports a sentence"."""

from __future__ import annotations

import re

from bot.text import MONTH_NAMES, terms

SUPPORT_TERM_SHARE = 0.8  # a sentence is supported when 80% of its terms are in the cited quote

_QUOTES = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "′": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "″": '"',
        "–": "-",
        "—": "-",
        "‑": "-",
        "\u00a0": " ",
        "\u202f": " ",
    }
)


_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15, "twenty": 20, "thirty": 30,
    "sixty": 60, "ninety": 90,
}  # fmt: skip
_COUNTED = re.compile(rf"\b({'|'.join(_NUMBER_WORDS)})[- ](days?|weeks?|months?|years?)\b")


def periods_in_digits(text: str) -> str:
    """A period in words as digits, on normalised text: "eight weeks" -> "8 weeks", "6-month" -> "6 month"."""
    text = _COUNTED.sub(lambda m: f"{_NUMBER_WORDS[m[1]]} {m[2]}", text)
    return re.sub(r"\b(\d+)-(days?|weeks?|months?|years?)\b", r"\1 \2", text)


def normalise(text: str) -> str:
    """Lower case; plain quotes and dashes; no thousands commas; hyphens as spaces; one space."""
    text = text.translate(_QUOTES).lower()
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # £85,000 -> £85000
    text = re.sub(r"\b(us\$|usd ?)(?=\d)", "$", text)  # US$5 / USD 5 -> $5
    text = re.sub(r"\bgbp ?(?=\d)", "£", text)
    text = re.sub(r"[*_`]+", "", text)  # Markdown emphasis
    text = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", text)  # cooling-off == cooling off
    return re.sub(r"\s+", " ", text).strip()


_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?{_MONTH},? (\d{{4}})\b")
_MONTH_DAY_YEAR = re.compile(rf"\b{_MONTH} (\d{{1,2}})(?:st|nd|rd|th)?,? (\d{{4}})\b")
_MONTH_DAY = re.compile(rf"\b{_MONTH} (\d{{1,2}})(?:st|nd|rd|th)?\b(?!,? \d{{4}})")


def _month_number(name: str) -> int:
    return next(n for n, month in enumerate(MONTH_NAMES, start=1) if month.startswith(name[:3]))


def canonical_dates(text: str) -> str:
    """Whole dates in any common style as ISO (18 January 2027, January 18, 2027 -> 2027-01-18);
    'January 31' as '31 january'. Applied to normalised text."""
    text = _DAY_MONTH_YEAR.sub(lambda m: f"{m[3]}-{_month_number(m[2]):02d}-{int(m[1]):02d}", text)
    text = _MONTH_DAY_YEAR.sub(lambda m: f"{m[3]}-{_month_number(m[1]):02d}-{int(m[2]):02d}", text)
    return _MONTH_DAY.sub(lambda m: f"{int(m[2])} {MONTH_NAMES[_month_number(m[1]) - 1]}", text)


def contains(haystack: str, needle: str) -> bool:
    """Case/space/quote-insensitive phrase match on word boundaries; dates match in any style, a period in
    words or digits ("eight weeks" == "8 weeks"), and 'A | B' matches either alternative."""
    alternatives = [part for part in needle.split(" | ") if part.strip()]
    if len(alternatives) > 1:
        return any(contains(haystack, part) for part in alternatives)
    wanted = canonical_dates(normalise(needle))
    if not wanted:
        return False
    text = canonical_dates(normalise(haystack))
    return _found(wanted, text) or _found(periods_in_digits(wanted), periods_in_digits(text))


def _found(wanted: str, text: str) -> bool:
    pattern = (r"(?<![a-z0-9])(?<!\d[.,])" if wanted[0].isalnum() else "") + re.escape(wanted)
    pattern += r"(?![a-z0-9]|[.,]\d)" if wanted[-1].isalnum() else ""
    return re.search(pattern, text) is not None


def supports(sentence: str, quote: str) -> bool:
    """The quote supports the sentence: it contains it, or holds 80% of its content terms."""
    said, quoted = normalise(sentence).rstrip(". "), normalise(quote)
    if said and said in quoted:
        return True
    wanted = set(terms(sentence))
    if not wanted:
        return False
    return len(wanted & set(terms(quote))) / len(wanted) >= SUPPORT_TERM_SHARE
