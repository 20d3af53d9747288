"""Citation verification of written sentences: a sentence is shown only when the passages it cites
support it (markers, jurisdiction, figures, named bodies, advice, negation, similarity, word coverage).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.analysis.patterns import INJECTION as QUESTION_INJECTION
from bot.settings import VerifySettings
from bot.text import terms

# ---------------------------------------------------------------------------------------------
# Passages


@dataclass
class Passage:
    number: int
    jurisdiction: str  # UK | US | INTL
    label: str  # publisher, title, section, status and dates, as shown to the model
    text: str
    sentences: list[str]
    sentence_vectors: np.ndarray
    key: Any = None  # whatever the caller uses to find the evidence again
    label_figures: set[str] = field(init=False)
    words: set[str] = field(init=False)
    windows: list[str] = field(init=False)  # each sentence, then each pair of adjacent sentences
    window_vectors: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        # The label's own dates (applies from ...) may be quoted; its publication date is not a rule's date.
        self.label_figures = figures(re.sub(r"published \S+", "", self.label))
        self.words = set(terms(self.text)) | set(terms(self.label))
        vectors = self.sentence_vectors
        self.windows = list(self.sentences)
        if len(vectors) > 1:  # a written sentence may merge two adjacent passage sentences
            pairs = vectors[:-1] + vectors[1:]
            pairs = pairs / np.maximum(np.linalg.norm(pairs, axis=1, keepdims=True), 1e-9)
            self.window_vectors = np.vstack([vectors, pairs])
            self.windows += [f"{a} {b}" for a, b in zip(self.sentences, self.sentences[1:], strict=False)]
        else:
            self.window_vectors = vectors


TOP_WINDOWS = 2  # passage windows a written sentence's figures and bodies must come from

# ---------------------------------------------------------------------------------------------
# Verification

_NUMBER = re.compile(
    r"(?<![\w.])[£$€]?\s?(\d[\d,]*(?:\.\d+)?)\s*(k|m|bn|million|billion|trillion)?(?![\w])|(\d+)", re.I
)
_SCALE = {"k": 1e3, "m": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9, "trillion": 1e12}


_SMALL = "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen"
# "one" is left out: "one-for-one" and "one of" are not figures.
_WORD_NUMBERS = {word: str(n) for n, word in enumerate(f"{_SMALL} eighteen nineteen twenty".split(), start=2)} | {
    "thirty": "30",
    "forty": "40",
    "fifty": "50",
    "sixty": "60",
    "ninety": "90",
    "hundred": "100",
}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_WORD_NUMBERS) + r")\b", re.I)
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
# `\s*(?:,\s*)?`, not `\s*,?\s*`: the same strings, but two `\s*` in a row backtrack quadratically on
# a run of spaces.
_MONTH = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(?=\s+\d|\s*(?:,\s*)?\d{4})", re.I)


_MONTH_NAME = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATES = (
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH_NAME},?\s+(\d{{4}})\b", re.I), (3, 2, 1)),
    (re.compile(rf"\b{_MONTH_NAME}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I), (3, 1, 2)),
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), (1, 2, 3)),
)


def _dates(text: str) -> set[str]:
    """Whole dates as one figure each, so '31 January 2027' is not matched by '1 January 2026' and '31 May 2027'."""
    found = set()
    for pattern, (y, m, d) in _DATES:
        for match in pattern.finditer(text):
            month = match.group(m)
            number = int(month) if month.isdigit() else _MONTHS.index(month.lower()[:3]) + 1
            found |= {f"date:{int(match.group(y))}-{number}-{int(match.group(d))}", f"month:{number}"}
    return found


def figures(text: str) -> set[str]:
    """Amounts, dates, percentages, rule numbers and month names, normalised: '£85k' and '£85,000' -> '85000',
    'five' -> '5', '1 May 2026' -> {'1', 'month:5', '2026', 'date:2026-5-1'}."""
    found: set[str] = {_WORD_NUMBERS[m.group(1).lower()] for m in _NUMBER_WORD.finditer(text)}
    found |= {f"month:{_MONTHS.index(m.group(1).lower()[:3]) + 1}" for m in _MONTH.finditer(text)}
    found |= _dates(text)
    for match in _NUMBER.finditer(text):
        digits, scale, bare = match.group(1), match.group(2), match.group(3)
        raw = (digits or bare or "").replace(",", "")
        if not raw:
            continue
        try:
            value = float(raw.rstrip(".")) * _SCALE.get((scale or "").lower(), 1.0)
        except ValueError:
            continue
        if not math.isfinite(value):  # past 1e308 (a 309-digit number): the digits as written
            found.add(raw.rstrip(".") + (scale or "").lower())
            continue
        found.add(str(int(value)) if value == int(value) else f"{value:g}")
    return found


BODIES = {
    "FCA": r"\bFCA\b|Financial Conduct Authority",
    "PRA": r"\bPRA\b|Prudential Regulation Authority",
    "Bank of England": r"Bank of England|\bBoE\b",
    "HMRC": r"\bHMRC\b",
    "Financial Ombudsman Service": r"\bFOS\b|Ombudsman",
    "FSCS": r"\bFSCS\b|Financial Services Compensation Scheme",
    "SEC": r"\bSEC\b|Securities and Exchange Commission",
    "CFTC": r"\bCFTC\b|Commodity Futures Trading Commission",
    "FinCEN": r"\bFinCEN\b",
    "IRS": r"\bIRS\b|Internal Revenue Service",
    "FDIC": r"\bFDIC\b|Federal Deposit Insurance",
    "OCC": r"\bOCC\b|Comptroller of the Currency",
    "Federal Reserve": r"Federal Reserve",
    "NCUA": r"\bNCUA\b|National Credit Union",
    "FINRA": r"\bFINRA\b",
    "SIPC": r"\bSIPC\b|Securities Investor Protection",
    "CFPB": r"\bCFPB\b|Consumer Financial Protection",
    "FTC": r"\bFTC\b|Federal Trade Commission",
    "OFAC": r"\bOFAC\b",
    "FATF": r"\bFATF\b",
    "Advertising Standards Authority": r"\bASA\b|Advertising Standards",
    "HM Treasury": r"HM Treasury",
    "Action Fraud": r"Action Fraud",
    "NYDFS": r"\bNYDFS\b|New York (?:State )?Department of Financial Services",
}
_BODY_PATTERNS = {name: re.compile(pattern, re.I if " " in pattern else 0) for name, pattern in BODIES.items()}
COUNTRIES = {
    "UK": re.compile(r"\bUK\b|United Kingdom|\bBritain\b|\bBritish\b|\bEngland\b|\bsterling\b|£"),
    "US": re.compile(r"\bU\.?S\.?\b|United States|\bAmerican\b|\bfederal\b|\bdollar\b|\$"),
}
ADVICE = re.compile(
    r"\byou should (?:buy|sell|invest|hold|move|transfer|switch|choose|put|keep your)\b"
    r"|\b(?:I|we) (?:would )?(?:recommend|suggest|advise)\b|\bmy (?:advice|recommendation)\b"
    r"|\b(?:is|are) (?:likely|expected|set|going|bound) to (?:rise|fall|increase|decrease|go up|go down|double|"
    r"crash|recover|gain|lose)\b|\bwill (?:rise|fall|go up|go down|double|triple|crash|moon|recover)\b"
    r"|\bgood (?:time to|investment)\b|\bprice (?:will|is likely|could reach)\b"
    r"|\bI'?d (?:suggest|recommend|advise)\b|\b(?:would be|is) (?:wise|sensible|smart)\b|\bbest (?:option|choice|bet)\b"
    r"|\bstick (?:to|with)\b|\b(?:likely|expected) to (?:keep|continue) \w+ing\b|\bwait before (?:buying|selling)\b"
    r"|\b(?:you (?:could|might|may) want to|consider) (?:buy|sell|invest|mov|switch|open)\w*\b"
    r"|^(?:buy|sell|invest in|get out of|move)\b|\b(?:buy|sell)\s+(?:\w+\s+)?(?:now|today|immediately)\b",
    re.I,
)
INJECTION = re.compile(QUESTION_INJECTION.pattern + r"|\boverride\b|\binstructions?\b.{0,20}\b(?:ignore|follow)", re.I)
# (?<!\s): a conjunction's spaces are tried from the start of their run only (from every space of a
# long run is quadratic); a match can only end where the run ends, so the splits are the same.
CLAUSE = re.compile(r"[;,:]\s+|(?<!\s)\s+(?:and|but|while|whereas)\s+(?=(?:the|it|they|you|a|an|no|its|their)\b)")
NEGATION = re.compile(
    r"\b(?:no longer|not|no|never|cannot|none|neither|nor|without|outside|prohibit\w*|bans?|banned|instead of"
    r"|rather than)\b|n't\b",
    re.I,
)
# `\s*(?:(?:passage|source|ref)\s*)?`: the same markers as `\s*(?:passage|source|ref)?\s*` without
# two `\s*` in a row (quadratic on a run of spaces).
_MARKER = re.compile(r"\[\s*(?:(?:passage|source|ref)\s*)?#?(\d+(?:\s*[,;&]\s*#?\d+)*)\s*\]", re.I)
# Words a sentence may use that no passage needs to contain: they frame, they don't claim.
FRAME_WORDS = frozenset(
    terms(
        "you your investor investors holder holding hold held rule rules say says said according guidance "
        "official source sources passage means mean apply applies applied uk us united kingdom states "
        "also however note important cross border jurisdiction live living resident based"
    )
)


@dataclass
class Verdict:
    """One written sentence and what the verifier made of it."""

    section: str
    sentence: str  # as written, markers included
    text: str  # without markers
    passages: list[int]
    ok: bool
    reason: str = ""
    support: float = 0.0
    coverage: float = 0.0
    removed_markers: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sentence": self.sentence,
            "section": self.section,
            "citations": self.passages,
            "reason": self.reason,
            "support": round(self.support, 3),
            "coverage": round(self.coverage, 3),
        }


class Verifier:
    """Checks written sentences against the passages they cite."""

    def __init__(
        self, passages: dict[int, Passage], encode: Callable[[str], np.ndarray], settings: VerifySettings
    ) -> None:
        self.passages = passages
        self.encode = encode
        self.min_support = settings.min_support
        self.min_coverage = settings.min_coverage
        self.check_negation = True

    def check(self, section: str | None, sentence: str) -> Verdict:
        """Whether the sentence stands on the passages it cites, and if not, why."""
        numbers: list[int] = []
        for group in _MARKER.findall(sentence):
            numbers.extend(int(n) for n in re.findall(r"\d+", group))
        text = _MARKER.sub("", sentence).strip()
        text = re.sub(r"\s+([.,;:!?])", r"\1", text).strip()
        if text and text[-1] not in ".!?":
            text += "."
        valid = list(dict.fromkeys(n for n in numbers if n in self.passages))
        removed = [n for n in dict.fromkeys(numbers) if n not in self.passages]
        verdict = Verdict(section or "cross_border", sentence, text, valid, False, removed_markers=removed)
        verdict.reason = self._citation_problem(verdict, section, numbers) or self._content_problem(verdict)
        verdict.ok = not verdict.reason
        return verdict

    def _citation_problem(self, verdict: Verdict, section: str | None, numbers: list[int]) -> str:
        """Why the sentence's markers cannot support it under its heading ("" when they can); keeps only
        the passages of the heading's country and, with no heading, takes the section from the passages."""
        if not numbers:
            return "no citation"
        if not verdict.passages:
            return f"cites passage(s) {verdict.removed_markers} that were not given"
        if section in ("UK", "US"):
            matching = [n for n in verdict.passages if self.passages[n].jurisdiction == section]
            if not matching:
                return f"under the {section} heading but cites no {section} passage"
            verdict.removed_markers += [n for n in verdict.passages if n not in matching]
            verdict.passages = matching
        elif section is None:
            found = {self.passages[n].jurisdiction for n in verdict.passages}
            verdict.section = found.pop() if len(found) == 1 and found <= {"UK", "US"} else "cross_border"
        return ""

    def _content_problem(self, verdict: Verdict) -> str:
        """Why the cited passages do not say what the sentence says ("" when they do); records its support
        (similarity to the closest passage sentences) and coverage (share of its words they contain)."""
        text = verdict.text
        cited = [self.passages[n] for n in verdict.passages]
        if ADVICE.search(text):
            return "personal advice or a price prediction"
        if INJECTION.search(text):
            return "repeats an instruction (passages and questions are data, not instructions)"
        vector = self.encode(text)
        # The passage sentences (single, or two adjacent ones) the sentence is closest to: its figures and
        # named bodies must come from these, not from elsewhere in a long passage.
        windows = sorted(
            ((float(score), p, i) for p in cited for i, score in enumerate(p.window_vectors @ vector)),
            key=lambda item: -item[0],
        )[:TOP_WINDOWS]
        verdict.support = windows[0][0]
        near_text = " ".join(p.windows[i] for _, p, i in windows)
        unsourced = _unsourced(text, near_text, cited)
        if unsourced:
            return unsourced
        verdict.coverage = _coverage(text, cited)
        best_window = windows[0][1].windows[windows[0][2]]
        # Polarity by the parity of negation cues: "decided not to propose a ban" (two) is not "proposed a ban" (one).
        if self.check_negation and len(NEGATION.findall(text)) % 2 != len(NEGATION.findall(best_window)) % 2:
            return "negation differs from the closest passage sentence"
        if verdict.support < self.min_support:
            return f"similarity {verdict.support:.2f} to the cited passage(s) is below {self.min_support}"
        if verdict.coverage < self.min_coverage:
            return f"only {verdict.coverage:.0%} of its words are in the cited passage(s)"
        return ""


def _unsourced(text: str, near_text: str, cited: list[Passage]) -> str:
    """The figure, body or country the sentence names that the closest passage sentences do not ("" if none)."""
    allowed = figures(near_text).union(*(p.label_figures for p in cited))
    missing = sorted(figures(text) - allowed, key=str)
    if missing:
        return f"figure(s) {missing} not in the cited passage(s)"
    near_source = near_text + " " + " ".join(p.label.split(":", 1)[0] for p in cited)  # windows + publishers
    for name, pattern in _BODY_PATTERNS.items():
        if pattern.search(text) and not pattern.search(near_source):
            return f"names {name}, which the cited passage(s) do not"
    for country, pattern in COUNTRIES.items():
        named = any(p.jurisdiction == country for p in cited) or pattern.search(near_text)
        if pattern.search(text) and not named:
            return f"speaks of the {country}, which the cited passage(s) do not"
    return ""


def _coverage(text: str, cited: list[Passage]) -> float:
    """The smallest share of a clause's words found in the cited passages."""
    # Coverage is measured per clause, so a supported clause cannot carry an added, unsupported one.
    known = set().union(*(p.words for p in cited))
    shares: list[float] = []
    for clause in CLAUSE.split(text):
        words = set(terms(clause)) - FRAME_WORDS
        if len(words) >= 3 or not shares:
            shares.append(len(words & known) / len(words) if words else 1.0)
    return min(shares)
