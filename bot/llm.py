"""LLM answer backends: a langchain chat model chosen by one setting, prompts from prompts/, and a
verifier that lets through only sentences whose citations support them.

The model writes; it is never trusted. Every sentence it writes is checked against the passages it
cites (markers, jurisdiction, figures, named bodies, advice, similarity, word coverage) before an
investor sees it, and the extractive composer answers whenever too little survives or the model
fails.
"""

from __future__ import annotations

import logging
import os
import re
import string
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from bot.analysis import INJECTION as QUESTION_INJECTION
from bot.errors import SettingsError
from bot.prompts import NO_GUIDANCE
from bot.settings import AnswerSettings
from bot.text import split_sentences, terms

log = logging.getLogger(__name__)

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
SYSTEM_VARIABLES = frozenset({"as_of", "cannot_answer"})
ANSWER_VARIABLES = frozenset({"question", "profile", "evidence", "history"})
# provider -> (extra of this project, package that provides it)
PROVIDER_PACKAGES = {"openai": ("openai", "langchain-openai"), "ollama": ("ollama", "langchain-ollama")}


class PromptError(SettingsError):
    """A prompt file is missing or its placeholders are wrong."""


# ---------------------------------------------------------------------------------------------
# Prompts


@dataclass(frozen=True)
class Prompts:
    system: str
    answer: str
    folder: Path


def _load_template(path: Path, required: frozenset[str]) -> str:
    if not path.exists():
        raise PromptError(f"Prompt file {path} is missing; copy it from the bundled prompts/ folder.")
    text = path.read_text(encoding="utf-8")
    try:
        found = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise PromptError(f"Prompt {path}: {exc}; write a literal brace as {{{{ or }}}}.") from None
    if found != required:
        missing, unknown = sorted(required - found), sorted(found - required)
        raise PromptError(
            f"Prompt {path}: missing placeholders {missing}, unknown placeholders {unknown}; "
            f"use exactly {sorted(required)}."
        )
    return text


def load_prompts(folder: Path | None = None) -> Prompts:
    """Read system.md and answer.md and check their placeholders now, not mid-answer."""
    folder = Path(folder) if folder else PROMPTS
    if not folder.is_dir():
        raise PromptError(f"Prompts folder {folder} does not exist (prompts_dir / BOT_PROMPTS_DIR).")
    return Prompts(
        system=_load_template(folder / "system.md", SYSTEM_VARIABLES),
        answer=_load_template(folder / "answer.md", ANSWER_VARIABLES),
        folder=folder,
    )


# ---------------------------------------------------------------------------------------------
# Backends


def chat_model(spec: str, settings: AnswerSettings) -> BaseChatModel:
    """Resolve a langchain provider string ('openai:gpt-4.1-mini', 'ollama:llama3.1') to a chat model."""
    provider, sep, model = spec.partition(":")
    if not sep or not provider or not model:
        raise SettingsError(
            f"llm '{spec}' must be 'extractive' or PROVIDER:MODEL, e.g. 'openai:gpt-4.1-mini' or 'ollama:llama3.1'."
        )
    kwargs: dict[str, Any] = {"temperature": settings.llm_temperature}
    if provider == "ollama":
        kwargs |= {"num_predict": settings.llm_max_tokens, "client_kwargs": {"timeout": settings.llm_timeout_seconds}}
    else:
        # Our own bounded retry (llm_retries) decides when to give up, so the client must not retry too.
        kwargs |= {"timeout": settings.llm_timeout_seconds, "max_retries": 0, "max_tokens": settings.llm_max_tokens}
    base_url = os.environ.get("OPENAI_BASE_URL", "")
    if provider == "openai" and base_url and "api.openai.com" not in base_url:
        # langchain-openai sends the limit as max_completion_tokens, which OpenAI-compatible servers such as
        # llama.cpp's ignore: send the older max_tokens too, or a small model may write until its context is full.
        kwargs["extra_body"] = {"max_tokens": settings.llm_max_tokens}
        if not os.environ.get("OPENAI_API_KEY"):
            kwargs["api_key"] = "unused"  # a local server needs no key, but the client wants one
    from langchain.chat_models import init_chat_model

    try:
        return init_chat_model(model, model_provider=provider, **kwargs)
    except ImportError as exc:
        extra, package = PROVIDER_PACKAGES.get(provider, ("", f"langchain-{provider}"))
        how = f"pip install -e '.[{extra}]'" if extra else f"pip install {package}"
        raise SettingsError(f"llm '{spec}' needs the package {package}, which is not installed: {how}") from exc
    except Exception as exc:  # unknown provider, missing API key, bad option: all are settings problems
        hint = " Set OPENAI_API_KEY (and OPENAI_BASE_URL for a local server)." if provider == "openai" else ""
        raise SettingsError(f"llm '{spec}' could not be set up: {str(exc).rstrip('.')}.{hint}") from exc


# ---------------------------------------------------------------------------------------------
# Passages and the prompt


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

_TAG = re.compile(r"</?\s*passage\b[^>]*>?", re.I)


def render_evidence(passages: list[Passage]) -> str:
    """Numbered passages in tags the text cannot close, so a passage stays data."""
    blocks = []
    for p in passages:
        blocks.append(f'<passage n="{p.number}" jurisdiction="{p.jurisdiction}" source="{_TAG.sub("", p.label)}">')
        blocks.append(_TAG.sub("", p.text))
        blocks.append("</passage>")
    return "\n".join(blocks)


def render_history(questions: list[str]) -> str:
    return "\n".join(f"- {q}" for q in questions) if questions else "(none: this is the first question)"


def build_messages(
    prompts: Prompts, question: str, profile: str, passages: list[Passage], history: list[str], as_of: str
) -> list[Any]:
    system = prompts.system.format(as_of=as_of, cannot_answer=NO_GUIDANCE)
    user = prompts.answer.format(
        question=question, profile=profile, evidence=render_evidence(passages), history=render_history(history)
    )
    return [SystemMessage(content=system), HumanMessage(content=user)]


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
_MONTH = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(?=\s+\d|\s*,?\s*\d{4})", re.I)


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
CLAUSE = re.compile(r"[;,:]\s+|\s+(?:and|but|while|whereas)\s+(?=(?:the|it|they|you|a|an|no|its|their)\b)")
NEGATION = re.compile(
    r"\b(?:no longer|not|no|never|cannot|none|neither|nor|without|outside|prohibit\w*|bans?|banned|instead of"
    r"|rather than)\b|n't\b",
    re.I,
)
_MARKER = re.compile(r"\[\s*(?:passage|source|ref)?\s*#?(\d+(?:\s*[,;&]\s*#?\d+)*)\s*\]", re.I)
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
        self, passages: dict[int, Passage], encode: Callable[[str], np.ndarray], settings: AnswerSettings
    ) -> None:
        self.passages = passages
        self.encode = encode
        self.min_support = settings.min_llm_support
        self.min_coverage = settings.min_llm_coverage
        self.check_negation = True

    def check(self, section: str | None, sentence: str) -> Verdict:
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
        if not numbers:
            verdict.reason = "no citation"
            return verdict
        if not valid:
            verdict.reason = f"cites passage(s) {removed} that were not given"
            return verdict
        if section in ("UK", "US"):
            matching = [n for n in valid if self.passages[n].jurisdiction == section]
            if not matching:
                verdict.reason = f"under the {section} heading but cites no {section} passage"
                return verdict
            verdict.removed_markers += [n for n in valid if n not in matching]
            valid = verdict.passages = matching
        elif section is None:
            found = {self.passages[n].jurisdiction for n in valid}
            verdict.section = found.pop() if len(found) == 1 and found <= {"UK", "US"} else "cross_border"
        cited = [self.passages[n] for n in valid]
        if ADVICE.search(text):
            verdict.reason = "personal advice or a price prediction"
            return verdict
        if INJECTION.search(text):
            verdict.reason = "repeats an instruction (passages and questions are data, not instructions)"
            return verdict
        vector = self.encode(text)
        # The passage sentences (single, or two adjacent ones) the sentence is closest to: its figures and
        # named bodies must come from these, not from elsewhere in a long passage.
        windows = sorted(
            ((float(score), p, i) for p in cited for i, score in enumerate(p.window_vectors @ vector)),
            key=lambda item: -item[0],
        )[:TOP_WINDOWS]
        verdict.support = windows[0][0]
        near_text = " ".join(p.windows[i] for _, p, i in windows)
        allowed = figures(near_text).union(*(p.label_figures for p in cited))
        missing = sorted(figures(text) - allowed, key=str)
        if missing:
            verdict.reason = f"figure(s) {missing} not in the cited passage(s)"
            return verdict
        near_source = near_text + " " + " ".join(p.label.split(":", 1)[0] for p in cited)  # windows + publishers
        for name, pattern in _BODY_PATTERNS.items():
            if pattern.search(text) and not pattern.search(near_source):
                verdict.reason = f"names {name}, which the cited passage(s) do not"
                return verdict
        for country, pattern in COUNTRIES.items():
            named = any(p.jurisdiction == country for p in cited) or pattern.search(near_text)
            if pattern.search(text) and not named:
                verdict.reason = f"speaks of the {country}, which the cited passage(s) do not"
                return verdict
        # Coverage is measured per clause, so a supported clause cannot carry an added, unsupported one.
        known = set().union(*(p.words for p in cited))
        shares: list[float] = []
        for clause in CLAUSE.split(text):
            words = set(terms(clause)) - FRAME_WORDS
            if len(words) >= 3 or not shares:
                shares.append(len(words & known) / len(words) if words else 1.0)
        verdict.coverage = min(shares)
        best_window = windows[0][1].windows[windows[0][2]]
        # Polarity by the parity of negation cues: "decided not to propose a ban" (two) is not "proposed a ban" (one).
        if self.check_negation and len(NEGATION.findall(text)) % 2 != len(NEGATION.findall(best_window)) % 2:
            verdict.reason = "negation differs from the closest passage sentence"
            return verdict
        if verdict.support < self.min_support:
            verdict.reason = f"similarity {verdict.support:.2f} to the cited passage(s) is below {self.min_support}"
            return verdict
        if verdict.coverage < self.min_coverage:
            verdict.reason = f"only {verdict.coverage:.0%} of its words are in the cited passage(s)"
            return verdict
        verdict.ok = True
        return verdict


# ---------------------------------------------------------------------------------------------
# Reading a reply, streamed or whole

HEADINGS = (
    (re.compile(r"\b(?:across|border|cross-border)\b"), "cross_border"),
    (re.compile(r"\b(?:next|check|what you can)\b"), "next_steps"),
    (re.compile(r"^(?:the )?(?:uk|united kingdom|britain)\b"), "UK"),
    (re.compile(r"^(?:the )?(?:us|u\.s\.|united states|usa)\b"), "US"),
)


class ReplyReader:
    """Turns a reply, fed piece by piece, into (section, sentence) pairs as each line completes."""

    def __init__(self) -> None:
        self.buffer = ""
        self.section: str | None = None
        self.cannot_answer = False
        self.sentences = 0

    def feed(self, text: str) -> list[tuple[str | None, str]]:
        self.buffer += text
        *lines, self.buffer = self.buffer.split("\n")
        return [item for line in lines for item in self._line(line)]

    def close(self) -> list[tuple[str | None, str]]:
        rest, self.buffer = self.buffer, ""
        return self._line(rest)

    def _line(self, raw: str) -> list[tuple[str | None, str]]:
        line = raw.strip()
        if not line:
            return []
        heading = re.fullmatch(r"(?:#+\s*|\*\*)(.+?)(?:\*\*)?:?", line)
        if heading and not _MARKER.search(line):
            title = heading.group(1).strip(" *:").lower()
            for pattern, name in HEADINGS:
                if pattern.search(title):
                    self.section = name
                    break
            return []
        line = re.sub(r"^(?:[-*•]|\d+[.)])\s+", "", line)
        if NO_GUIDANCE[:40].lower() in line.lower():
            self.cannot_answer = True
            return []
        line = re.sub(r"([.!?])\s*((?:\[[^\]]*\d[^\]]*\]\s*)+)", r" \2\1 ", line)  # "fact. [2]" -> "fact [2]."
        found = [(self.section, s.strip()) for s in split_sentences(line) if s.strip()]
        self.sentences += len(found)
        return found


def verify_reply(reply: str, verifier: Verifier) -> tuple[list[Verdict], bool]:
    """Check a whole reply; returns the verdicts and whether the model said it cannot answer."""
    reader = ReplyReader()
    items = reader.feed(reply) + reader.close()
    return [verifier.check(section, sentence) for section, sentence in items], reader.cannot_answer


# ---------------------------------------------------------------------------------------------
# Generation with bounded retry


@dataclass
class Outcome:
    """What happened during one LLM answer, for the answer's diagnostics."""

    verdicts: list[Verdict] = field(default_factory=list)
    attempts: int = 0
    error: str = ""
    cannot_answer: bool = False
    truncated: bool = False
    seconds: float = 0.0

    @property
    def kept(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.ok]


def stream_verified(
    model: BaseChatModel,
    messages: list[Any],
    verifier: Verifier,
    retries: int,
    outcome: Outcome,
    sleep: Callable[[float], None] = time.sleep,
    deadline_seconds: float = 120.0,
    max_chars: int = 8000,
) -> Iterator[Verdict]:
    """Stream the model's reply and yield each sentence that passes verification as soon as it is complete.

    A failed attempt (timeout, provider error, rate limit) is retried up to `retries` times while
    nothing has been shown yet; after that the outcome records the error and the caller falls back.
    Whatever the server does with its own limits, reading stops after `max_chars` characters (the
    reply is cut there) or `deadline_seconds` in all (an error: the caller falls back).
    """
    started = time.perf_counter()
    while True:
        outcome.attempts += 1
        outcome.verdicts = []
        reader = ReplyReader()
        shown = False
        received = 0
        try:
            for chunk in model.stream(messages):
                piece = chunk.content if isinstance(chunk.content, str) else str(chunk.content)
                received += len(piece)
                if time.perf_counter() - started > deadline_seconds:
                    raise TimeoutError(f"the model took longer than {deadline_seconds:g} s in all")
                if received > max_chars:
                    outcome.truncated = True
                    break
                for section, sentence in reader.feed(piece):
                    verdict = verifier.check(section, sentence)
                    outcome.verdicts.append(verdict)
                    if verdict.ok:
                        shown = True
                        yield verdict
            for section, sentence in reader.close():
                verdict = verifier.check(section, sentence)
                outcome.verdicts.append(verdict)
                if verdict.ok:
                    yield verdict
            outcome.cannot_answer = reader.cannot_answer
            outcome.error = ""
            break
        except Exception as exc:  # any provider failure: the extractive composer is the safe answer
            outcome.error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning("LLM attempt %d failed: %s", outcome.attempts, outcome.error)
            if shown or outcome.attempts > retries:
                break
            sleep(min(0.5 * 2 ** (outcome.attempts - 1), 4.0))
    outcome.seconds = round(time.perf_counter() - started, 3)
