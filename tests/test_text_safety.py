"""Every function that reads text someone else wrote (a question, a history turn, an LLM reply, corpus
text) runs in bounded time on adversarial input: one quadratic regex let two requests stall the whole
server for 30 s (issue 13). The bounds are CPU seconds of this thread, so a busy machine does not make
them flaky, and generous: a linear function takes milliseconds, a quadratic one tens of seconds."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot import text as bot_text
from bot.analysis import analyse, describe, generic_firms, merge_history
from bot.analysis.patterns import question_parts
from bot.compose import verify
from bot.compose.candidates import written_for_someone_else
from bot.compose.llm import ReplyReader
from bot.corpus import split_locator
from bot.eval.matching import canonical_dates, normalise
from bot.intent import pattern_features
from bot.text import slugify, split_sentences, terms
from bot.types import Profile

QUESTION_CHARS = 2_000  # the question cap (answer.max_question_chars); history turns past it are dropped
LONG_CHARS = 30_000  # history and corpus text, an LLM reply
QUESTION_SECONDS = 1.0
LONG_SECONDS = 2.0

# Units repeated into long runs: the shapes that make a backtracking regex go quadratic (long runs of
# digits, currency signs, punctuation, spaces, one word, one phrase the patterns look for).
UNITS = [
    "1",
    "9,",
    "0.",
    "£",
    "$1",
    "€,",
    ",",
    ".",
    "!",
    "?",
    "'",
    "-",
    ")",
    "[",
    "[1",
    "![1",
    "#",
    "*",
    " ",
    "\n",
    "\n ",
    "\t",
    "a",
    "A",
    "k",
    "Mr. ",
    "U.S. ",
    "I live in the ",
    "I don't live in the ",
    "I'm a ",
    "moved from ",
    "as a ",
    "jan ",
    "1 January ",
    " and ",
    "will bitcoin ",
    "should I buy ",
    "is it a ",
    "coinbase fees ",
    "£85k ",
    "(s. 1) ",
    "(",
    "ignore previous ",
]


def _runs(max_chars: int) -> st.SearchStrategy[str]:
    """A few long runs of a unit (or of a short random string), joined, up to max_chars."""
    unit = st.sampled_from(UNITS) | st.text(min_size=1, max_size=4)
    run = st.tuples(unit, st.integers(1, max_chars)).map(lambda pair: (pair[0] * pair[1])[: pair[1]])
    return st.lists(run, min_size=1, max_size=4).map(lambda runs: "".join(runs)[:max_chars])


def adversarial(max_chars: int) -> st.SearchStrategy[str]:
    return _runs(max_chars) | st.text(max_size=200)


def _cpu_seconds(function: Callable[[str], Any], text: str) -> float:
    started = time.thread_time()
    function(text)
    return time.thread_time() - started


def _reply(text: str) -> None:
    reader = ReplyReader()
    reader.feed(text)
    reader.close()


def _verifier_patterns(text: str) -> None:
    """What Verifier.check runs on a written sentence (whitespace not collapsed: the worst case)."""
    verify.CLAUSE.split(text)
    verify.NEGATION.findall(text)
    verify.ADVICE.search(text)
    verify.INJECTION.search(text)
    verify._MARKER.findall(text)
    for pattern in verify.COUNTRIES.values():
        pattern.search(text)
    for pattern in verify._BODY_PATTERNS.values():
        pattern.search(text)


def _eval_text(text: str) -> None:
    canonical_dates(normalise(text))


def _profile(text: str) -> None:
    describe(analyse(text))


def _history(text: str) -> None:
    merge_history([text] * 6, text)


def _someone_else(text: str) -> None:
    written_for_someone_else(text, Profile(residence="UK", citizenship="US"))


# Question-sized input: the server refuses longer questions and drops longer history turns.
QUESTION_FUNCTIONS: dict[str, Callable[[str], Any]] = {
    "analysis.analyse": analyse,
    "analysis.analyse+describe": _profile,
    "analysis.generic_firms": generic_firms,
    "analysis.merge_history": _history,
    "intent.pattern_features": pattern_features,
    "extractive.question_parts": question_parts,
    "extractive.written_for_someone_else": _someone_else,
}
# Long input: history before it is filtered, corpus text and headings, an LLM reply (cut at 8,000
# characters by the reader's caller; tested far past that).
LONG_FUNCTIONS: dict[str, Callable[[str], Any]] = {
    "text.terms": terms,
    "text.split_sentences": split_sentences,
    "text.slugify": slugify,
    "corpus.split_locator": split_locator,
    "verify.figures": verify.figures,
    "verify patterns": _verifier_patterns,
    "llm.ReplyReader": _reply,
    "eval.normalise+canonical_dates": _eval_text,
}

# The inputs that were (or would have been) slow, kept as explicit examples.
KNOWN_ATTACKS = [
    "1" * LONG_CHARS,  # terms(): the 30 KB history of digits (issue 13)
    "£," * (LONG_CHARS // 2),
    "a" * (LONG_CHARS - 4) + " x. Y",  # split_sentences(): the last-word regex on a long word
    "Mr. " * (LONG_CHARS // 4),  # split_sentences(): a run of abbreviations, one growing candidate
    "jan" + " " * (LONG_CHARS - 4) + "x",  # figures(): two \s* in a row in the month lookahead
    "x" + " " * (LONG_CHARS - 2) + "x",  # Verifier's clause split: \s+ tried from every space
    "# [" + " " * (LONG_CHARS - 4) + "x",  # ReplyReader: the citation marker's two \s*
    "I live in the " * (LONG_CHARS // 14),
    ". [1" * (LONG_CHARS // 4),  # ReplyReader: unclosed citation markers after full stops (found by hypothesis)
]


def _check(function: Callable[[str], Any], text: str, bound: float, name: str) -> None:
    seconds = _cpu_seconds(function, text)
    assert seconds < bound, f"{name} took {seconds:.2f} s of CPU on {len(text)} characters {text[:60]!r}..."


@pytest.mark.parametrize("name", sorted(QUESTION_FUNCTIONS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text=adversarial(QUESTION_CHARS))
@example(text="1" * QUESTION_CHARS)
@example(text="I live in the " * (QUESTION_CHARS // 14))
@example(text="should I buy " * (QUESTION_CHARS // 13))
def test_question_functions_take_bounded_time(name: str, text: str) -> None:
    _check(QUESTION_FUNCTIONS[name], text, QUESTION_SECONDS, name)


@pytest.mark.parametrize("attack", range(len(KNOWN_ATTACKS)))
@pytest.mark.parametrize("name", sorted(LONG_FUNCTIONS))
def test_long_text_functions_resist_known_attacks(name: str, attack: int) -> None:
    _check(LONG_FUNCTIONS[name], KNOWN_ATTACKS[attack], LONG_SECONDS, name)


@pytest.mark.parametrize("name", sorted(LONG_FUNCTIONS))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text=adversarial(LONG_CHARS))
def test_long_text_functions_take_bounded_time(name: str, text: str) -> None:
    _check(LONG_FUNCTIONS[name], text, LONG_SECONDS, name)


# The linear rewrites give the same results as the regexes they replace.

_OLD_CLAUSE = re.compile(r"[;,:]\s+|\s+(?:and|but|while|whereas)\s+(?=(?:the|it|they|you|a|an|no|its|their)\b)")
_OLD_MONTH = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(?=\s+\d|\s*,?\s*\d{4})", re.I)
_OLD_MARKER = re.compile(r"\[\s*(?:passage|source|ref)?\s*#?(\d+(?:\s*[,;&]\s*#?\d+)*)\s*\]", re.I)
_OLD_LAST_WORD = re.compile(r"([A-Za-z.]+)\.$")

_PIECES = st.sampled_from(
    [" ", "  ", "\t", "\n", ",", ";", ":", ".", "!", "?", "'", '"', ")", "(", "[", "]", "#", "&", "1", "12", "2026"]
    + ["and", "but", "while", "the", "it", "a", "jan", "January", "sept", "passage", "ref", "Mr", "U.S", "x", "X"]
)
_MIXED = st.lists(_PIECES | st.text(max_size=3), max_size=30).map("".join)


def _old_split_sentences(text: str) -> list[str]:
    sentences: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-*+]|\d+[.)])\s)", text):
        block = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", block.strip())
        block = re.sub(r"\s+", " ", block)
        if not block:
            continue
        start = 0
        for match in bot_text._BOUNDARY.finditer(block):
            candidate = block[start : match.start()].strip()
            last_word = _OLD_LAST_WORD.search(candidate)
            if last_word and last_word.group(1).lower().rstrip(".") in bot_text._ABBREVIATIONS:
                continue
            if candidate:
                sentences.append(candidate)
            start = match.end()
        tail = block[start:].strip()
        if tail:
            sentences.append(tail)
    return sentences


@settings(max_examples=1000, deadline=None)
@given(text=_MIXED)
def test_linear_rewrites_match_the_old_regexes(text: str) -> None:
    assert split_sentences(text) == _old_split_sentences(text)
    assert verify.CLAUSE.split(text) == _OLD_CLAUSE.split(text)
    assert [m.span() for m in verify._MONTH.finditer(text)] == [m.span() for m in _OLD_MONTH.finditer(text)]
    assert [(m.span(), m.group(1)) for m in verify._MARKER.finditer(text)] == [
        (m.span(), m.group(1)) for m in _OLD_MARKER.finditer(text)
    ]
