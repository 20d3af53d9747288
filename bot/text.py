"""Text helpers shared by chunking, retrieval and composition."""

from __future__ import annotations

import functools
import re

MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)

# Abbreviations whose trailing full stop does not end a sentence.
_ABBREVIATIONS = {
    "u.s",
    "u.k",
    "e.g",
    "i.e",
    "no",
    "nos",
    "st",
    "mr",
    "mrs",
    "ms",
    "dr",
    "inc",
    "co",
    "ltd",
    "plc",
    "corp",
    "v",
    "vs",
    "art",
    "arts",
    "reg",
    "regs",
    "para",
    "paras",
    "sec",
    "s",
    "ss",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "etc",
    "approx",
    "cf",
    "fig",
    "p",
    "pp",
    "ch",
    "chap",
    "n.a",
    "l.l.c",
    "u.s.c",
    "c.f.r",
    "cfr",
    "usc",
}

_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9£$€])")
_WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.")


def _word_before_stop(block: str, start: int, end: int) -> str | None:
    """The word before the full stop that ends block[start:end] ("Mr" of "... Mr."), as the regex
    `([A-Za-z.]+)[.]$` finds it there, but read backwards from the end: that regex takes quadratic time
    on a long word, and the slice it needs makes a run of abbreviations quadratic too (issue 13)."""
    if end - start < 2 or block[end - 1] != ".":
        return None
    first = end - 1
    while first > start and block[first - 1] in _WORD_CHARS:
        first -= 1
    return block[first : end - 1] if first < end - 1 else None


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences; list items and paragraphs always end a sentence."""
    sentences: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-*+]|\d+[.)])\s)", text):
        block = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", block.strip())
        block = re.sub(r"\s+", " ", block)
        if not block:
            continue
        start = 0
        for match in _BOUNDARY.finditer(block):
            word = _word_before_stop(block, start, match.start())
            acronym = word is not None and len(word) > 1 and word.isupper() and "." not in word  # "the SEC."
            if word is not None and not acronym and word.lower().rstrip(".") in _ABBREVIATIONS:
                continue
            candidate = block[start : match.start()].strip()
            if candidate:
                sentences.append(candidate)
            start = match.end()
        tail = block[start:].strip()
        if tail:
            sentences.append(tail)
    return sentences


_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "from",
        "with",
        "without",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "he",
        "she",
        "they",
        "them",
        "their",
        "there",
        "here",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "do",
        "does",
        "did",
        "doing",
        "have",
        "has",
        "had",
        "having",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "not",
        "no",
        "so",
        "than",
        "too",
        "very",
        "just",
        "also",
        "into",
        "about",
        "over",
        "under",
        "after",
        "before",
        "between",
        "through",
        "up",
        "down",
        "out",
        "off",
        "again",
        "further",
        "then",
        "once",
        "any",
        "all",
        "both",
        "each",
        "few",
        "more",
        "most",
        "other",
        "some",
        "such",
        "own",
        "same",
        "only",
        "am",
        "im",
        "i'm",
        "ive",
        "i've",
        "dont",
        "don't",
        "isnt",
        "isn't",
        "wont",
        "won't",
        "cant",
        "can't",
        "get",
        "got",
        "like",
        "really",
        "please",
        "thanks",
        "hi",
        "hello",
    ]
)

# A word runs from a letter, digit or currency sign to the last letter or digit of its run of word
# characters ("£85,000", "u.s.", "1099-da"). Tokenised run by run, in linear time: the equivalent single
# regex backtracks quadratically on long runs such as "£,£,£,..." (issue 13).
_RUN = re.compile(r"[a-z0-9£$€,.\-']+")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_START = _ALNUM | frozenset("£$€")


def _words(text: str) -> list[str]:
    found: list[str] = []
    for run in _RUN.findall(text):
        start = next((i for i, char in enumerate(run) if char in _START), None)
        if start is None:
            continue
        end = len(run)
        while end > start and run[end - 1] not in _ALNUM:
            end -= 1
        end = max(end, start + 1)
        found.append(run[start:end])
        found.extend(char for char in run[end:] if char in _START)
    return found


def _stem(word: str) -> str:
    for suffix in ("ing", "ers", "ies", "ied", "ed", "es", "er", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            if suffix in ("ies", "ied"):
                return word[: -len(suffix)] + "y"
            return word[: -len(suffix)]
    return word


@functools.lru_cache(maxsize=65536)
def matches(pattern: re.Pattern[str], text: str) -> bool:
    """Whether pattern occurs in text, remembered: composing tests the same corpus sentences against the
    same patterns for every answer (about 750 searches an answer, a third of its time outside the encoder)."""
    return pattern.search(text) is not None


def terms(text: str) -> list[str]:
    """Lower-case, stop-word-free, lightly stemmed terms for BM25 and overlap scores."""
    return list(_terms(text))


@functools.lru_cache(maxsize=16384)
def _terms(text: str) -> tuple[str, ...]:
    # Remembered: composing reads the same corpus sentences' terms for every answer (a several-part
    # question read about 260 sentences' terms, 44% of its time, before this).
    lowered = re.sub(r"'s\b", "", text.lower().replace("’", "'"))
    # (?<!\d): one attempt per run of digits, not one per digit (quadratic on a long number).
    lowered = re.sub(r"(?<!\d)([£$€]?\d+)k\b", r"\1,000", lowered)  # "£85k" reads as "£85,000"
    lowered = re.sub(r"(?<!\d)([£$€]?\d+)m\b", r"\1 million", lowered)
    words = _words(lowered)
    return tuple(_stem(w.strip(".,'")) for w in words if w not in _STOPWORDS and w.strip(".,'"))


def slugify(text: str) -> str:
    """A stable anchor for a heading."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:80] or "section"
