"""The LLM composer's answer: the model's sentences streamed as they pass citation verification
(bot/compose/verify.py), numbered as `finish` numbers citations, with the extractive composer's next
steps when the model writes none. `Bot.ask_stream` falls back to the extractive composer when this
returns no answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.analysis import describe, generic_firms
from bot.compose.citations import Entry, citation_for, finish
from bot.compose.extractive import select
from bot.compose.llm import llm_passages
from bot.index import Index
from bot.prompts import NO_GUIDANCE
from bot.render import section_heading, sentence_line, understood_line
from bot.settings import Settings
from bot.types import Answer, Citation, Diagnostics, Evidence, Profile


@dataclass
class StreamEvent:
    """One step of a streamed answer: a `line` of Markdown, a `reset` (discard the lines so far), or the
    final `answer`."""

    type: str
    text: str = ""
    answer: Answer | None = None


@dataclass(frozen=True)
class LlmParts:
    """What the LLM composer needs from the Bot: the chat model, the prompts, the query encoder, settings."""

    llm: Any
    prompts: Any
    encode: Callable[[str], np.ndarray]
    settings: Settings


def llm_answer(
    bot: LlmParts,
    question: str,
    earlier: list[str],
    profile: Profile,
    evidence: list[Evidence],
    query_vector: np.ndarray,
    index: Index,
    as_of: dt.date,
    timings: dict[str, float],
    shown: list[str],
) -> Generator[StreamEvent, None, tuple[Answer | None, dict[str, Any]]]:
    """Stream an LLM answer, verified sentence by sentence; (None, diagnostics) means fall back.

    Longer than most functions here: it is one generator whose `yield`s are the lines the reader sees, in
    order, and `cite` numbers citations as they first appear; split up, the order would be spread over
    several generators."""
    from bot.compose.llm import Outcome, Verifier, build_messages, stream_verified

    settings, llm, verify = bot.settings.answer, bot.settings.llm, bot.settings.verify
    passages = {p.number: p for p in llm_passages(evidence, index, llm.passages)}
    messages = build_messages(
        bot.prompts, question, describe(profile), list(passages.values()), earlier, as_of.isoformat()
    )
    verifier = Verifier(passages, bot.encode, verify)
    outcome = Outcome()
    numbering: dict[tuple[str, str], int] = {}
    entries: dict[str, list[Entry]] = {}
    section: str | None = None

    def cite(supports: list[tuple[Evidence, str]]) -> list[Citation]:
        """Citations numbered in the order the reader first sees them (as finish() will number them)."""
        cited = []
        for item, quote in supports:
            key = (item.document.id, item.section.anchor)
            numbering.setdefault(key, len(numbering) + 1)
            cited.append(citation_for(item, numbering[key], quote))
        return cited

    stream = stream_verified(
        bot.llm,
        messages,
        verifier,
        llm.retries,
        outcome,
        deadline_seconds=llm.timeout_seconds * (llm.retries + 1),
        max_chars=llm.max_tokens * 8,  # a token is about 4 characters: twice the room, then cut
    )
    for verdict in stream:
        if not shown:
            shown.append(understood_line(profile))
            yield StreamEvent("line", text=shown[-1])
        supports = [(passages[n].key, passages[n].text) for n in verdict.passages]
        cited = cite(supports)
        if verdict.section != section:
            section = verdict.section
            shown.append(section_heading(profile, section))
            yield StreamEvent("line", text=shown[-1])
        shown.append(sentence_line(verdict.text, cited))
        entries.setdefault(section, []).append((verdict.text, supports))
        yield StreamEvent("line", text=shown[-1])
    kept, total = len(outcome.kept), len(outcome.verdicts)
    diagnostics = _diagnostics(outcome, llm.model)
    timings["llm"] = round(outcome.seconds * 1000, 2)
    if outcome.error:
        diagnostics |= {"fallback": "llm_error", "error": outcome.error}
    elif outcome.cannot_answer and not kept:
        diagnostics["fallback"] = None
        answer = finish(question, profile, "no_guidance", NO_GUIDANCE, {}, evidence, index, as_of, timings)
        diagnostics["llm_said"] = "cannot answer from the passages"
        answer.diagnostics = Diagnostics.model_validate(diagnostics)
        return answer, diagnostics
    elif kept < verify.min_sentences or kept < verify.min_kept_share * total:
        diagnostics["fallback"] = "too_little_supported"
    if "fallback" in diagnostics:
        diagnostics["composer"] = "extractive"
        return None, diagnostics
    diagnostics["fallback"] = None
    if not entries.get("next_steps") and settings.next_steps:
        # The model wrote no "what you can check or do next": quote the extractive composer's steps.
        _, _, extractive = select(generic_firms(question), profile, evidence, query_vector, index, settings)
        written = {text for group in entries.values() for text, _ in group}
        steps = [entry for entry in extractive.get("next_steps", []) if entry[0] not in written]
        if steps:
            diagnostics["next_steps"] = "extractive"
            entries["next_steps"] = steps
            shown.append(section_heading(profile, "next_steps"))
            yield StreamEvent("line", text=shown[-1])
            for text, step_supports in steps:
                shown.append(sentence_line(text, cite(step_supports)))
                yield StreamEvent("line", text=shown[-1])
    answer = finish(question, profile, "answer", "", entries, evidence, index, as_of, timings, numbering, diagnostics)
    return answer, diagnostics


def _diagnostics(outcome: Any, model: str | None) -> dict[str, Any]:
    """What the LLM composer did: attempts, time, sentences written and kept, and each dropped sentence."""
    return {
        "composer": "llm",
        "llm": model,
        "attempts": outcome.attempts,
        "llm_seconds": outcome.seconds,
        "sentences_written": len(outcome.verdicts),
        "reply_cut": outcome.truncated,
        "sentences_kept": len(outcome.kept),
        "dropped": [v.as_dict() for v in outcome.verdicts if not v.ok],
        "removed_markers": [
            {"sentence": v.sentence, "markers": v.removed_markers} for v in outcome.verdicts if v.removed_markers
        ],
    }
