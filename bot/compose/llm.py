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
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.compose.verify import _MARKER, Passage, Verdict, Verifier
from bot.errors import SettingsError
from bot.index import Index
from bot.prompts import NO_GUIDANCE
from bot.render import status_text
from bot.settings import LlmSettings
from bot.text import split_sentences
from bot.types import Chunk, Evidence

if TYPE_CHECKING:  # langchain is imported only when an LLM backend is used: `bot ask` starts faster
    from langchain_core.language_models.chat_models import BaseChatModel

log = logging.getLogger(__name__)


def bundled_prompts() -> Path:
    """The prompt templates shipped with the bot: bot/prompt_templates in a wheel (mapped from the
    top-level prompts/ folder at build time), or prompts/ itself in a source checkout."""
    try:
        packaged = Path(str(resources.files("bot.prompt_templates")))
        if (packaged / "system.md").is_file():
            return packaged
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent.parent / "prompts"


PROMPTS = bundled_prompts()
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
        raise PromptError(f"Prompts folder {folder} does not exist (llm.prompts_dir / BOT_LLM__PROMPTS_DIR).")
    return Prompts(
        system=_load_template(folder / "system.md", SYSTEM_VARIABLES),
        answer=_load_template(folder / "answer.md", ANSWER_VARIABLES),
        folder=folder,
    )


# ---------------------------------------------------------------------------------------------
# Backends


def chat_model(spec: str, settings: LlmSettings) -> BaseChatModel:
    """Resolve a langchain provider string ('openai:gpt-4.1-mini', 'ollama:llama3.1') to a chat model."""
    provider, sep, model = spec.partition(":")
    if not sep or not provider or not model:
        raise SettingsError(
            f"llm '{spec}' must be 'extractive' or PROVIDER:MODEL, e.g. 'openai:gpt-4.1-mini' or 'ollama:llama3.1'."
        )
    kwargs: dict[str, Any] = {"temperature": settings.temperature}
    if provider == "ollama":
        kwargs |= {"num_predict": settings.max_tokens, "client_kwargs": {"timeout": settings.timeout_seconds}}
    else:
        # Our own bounded retry (llm.retries) decides when to give up, so the client must not retry too.
        kwargs |= {"timeout": settings.timeout_seconds, "max_retries": 0, "max_tokens": settings.max_tokens}
    base_url = os.environ.get("OPENAI_BASE_URL", "")
    if provider == "openai" and base_url and "api.openai.com" not in base_url:
        # langchain-openai sends the limit as max_completion_tokens, which OpenAI-compatible servers such as
        # llama.cpp's ignore: send the older max_tokens too, or a small model may write until its context is full.
        kwargs["extra_body"] = {"max_tokens": settings.max_tokens}
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
# The prompt

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
    from langchain_core.messages import HumanMessage, SystemMessage

    return [SystemMessage(content=system), HumanMessage(content=user)]


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
        # "fact. [2]" -> "fact [2]."; a marker is short and holds no bracket, so no unclosed "[" makes this
        # scan to the end of the line from every full stop (". [1" repeated was quadratic).
        line = re.sub(r"([.!?])\s*((?:\[[^\]\[\d]{0,20}\d[^\]\[]{0,40}\]\s*)+)", r" \2\1 ", line)
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
    nothing has been shown yet (tenacity decides and waits); after that the outcome records the error
    and the caller falls back. Whatever the server does with its own limits, reading stops after
    `max_chars` characters (the reply is cut there) or `deadline_seconds` in all (an error: the caller
    falls back).
    """
    # Imported here, as langchain is: tenacity costs `bot ask` a tenth of a second when no LLM is used.
    from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

    started = time.perf_counter()
    shown: list[bool] = []
    retrying = Retrying(
        stop=stop_after_attempt(retries + 1),
        wait=wait_exponential(multiplier=0.5, max=4.0),
        # Only an Exception is retried: GeneratorExit (the reader went away) must end the stream at once.
        retry=retry_if_exception(lambda exc: isinstance(exc, Exception) and not shown),
        sleep=sleep,
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                outcome.attempts = attempt.retry_state.attempt_number
                yield from _attempt(model, messages, verifier, outcome, shown, started, deadline_seconds, max_chars)
    except Exception:  # any provider failure: the extractive composer is the safe answer (outcome.error says which)
        pass
    outcome.seconds = round(time.perf_counter() - started, 3)


def _attempt(
    model: BaseChatModel,
    messages: list[Any],
    verifier: Verifier,
    outcome: Outcome,
    shown: list[bool],
    started: float,
    deadline_seconds: float,
    max_chars: int,
) -> Iterator[Verdict]:
    """One attempt at streaming the reply; `shown` gets an entry once a sentence has been yielded."""
    outcome.verdicts = []
    reader = ReplyReader()
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
                    shown.append(True)
                    yield verdict
        for section, sentence in reader.close():
            verdict = verifier.check(section, sentence)
            outcome.verdicts.append(verdict)
            if verdict.ok:
                yield verdict
    except Exception as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"[:500]
        log.warning("LLM attempt %d failed: %s", outcome.attempts, outcome.error)
        raise
    outcome.cannot_answer = reader.cannot_answer
    outcome.error = ""


def chunk_passage(index: Index, chunk: Chunk, number: int, jurisdiction: str, key: Any = None) -> Any:
    """One indexed chunk as a numbered passage for the model, labelled with its source, status and dates."""
    row = index.chunk_position[chunk.id]
    start = int(index.sentence_start[row])
    document = index.documents[chunk.doc_id]
    section = index.sections[(chunk.doc_id, chunk.section_anchor)]
    label = (
        f"{document.publisher}: {document.title} > {section.heading} ({section.locator}); "
        f"{status_text(section.status or document.status, document.effective)}; "
        f"published {document.published.isoformat()}"
    )
    return Passage(
        number=number,
        jurisdiction=jurisdiction,
        label=label,
        text=chunk.text,
        sentences=list(chunk.sentences),
        sentence_vectors=index.sentence_vectors[start : start + len(chunk.sentences)],
        key=key,
    )


def llm_passages(evidence: list[Evidence], index: Index, limit: int) -> list[Any]:
    """The evidence as numbered passages for the model: best first, taking turns between jurisdictions."""
    by_group: dict[str, list[Evidence]] = {}
    for item in sorted(evidence, key=lambda e: -e.score):
        by_group.setdefault(item.group, []).append(item)
    order: list[Evidence] = []
    while len(order) < limit and any(by_group.values()):
        for group in ("UK", "US", "INTL"):
            if by_group.get(group) and len(order) < limit:
                order.append(by_group[group].pop(0))
    passages = []
    for number, item in enumerate(order, start=1):
        jurisdiction = "INTL" if item.group == "INTL" else item.document.jurisdiction
        passages.append(chunk_passage(index, item.chunk, number, jurisdiction, key=item))
    return passages
