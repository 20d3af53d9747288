"""LLM composer: backends chosen by a string, prompts from prompts/, every sentence citation-checked."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from bot.errors import SettingsError
from bot.prompts import NO_GUIDANCE

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
ANSWER_PROMPT_VARIABLES = frozenset({"question", "profile", "evidence", "as_of", "cannot_answer"})
HEADING_GROUPS = {
    "uk": "UK",
    "us": "US",
    "across the border": "cross_border",
    "what you can check or do next": "next_steps",
}


class PromptError(SettingsError):
    """A prompt file is missing or its placeholders are wrong."""


def load_prompt(name: str, required: frozenset[str], folder: Path = PROMPTS) -> str:
    """Read prompts/<name>.md and check its placeholders now, not mid-answer."""
    path = folder / f"{name}.md"
    if not path.exists():
        raise PromptError(f"Prompt file {path} is missing; restore it from git or point to another folder.")
    text = path.read_text()
    found = {field for _, field, _, _ in string.Formatter().parse(text) if field}
    if found != required:
        missing, unknown = sorted(required - found), sorted(found - required)
        raise PromptError(
            f"Prompt {path}: missing placeholders {missing}, unknown placeholders {unknown}; "
            f"use exactly {sorted(required)}."
        )
    return text


class OpenAICompatibleChat(BaseChatModel):
    """A chat model behind an OpenAI-compatible /chat/completions endpoint (vLLM, llama.cpp, Ollama, OpenAI)."""

    model: str
    base_url: str
    api_key: str | None = None
    timeout: float = 60.0
    temperature: float = 0.0

    @property
    def _llm_type(self) -> str:
        return "openai-compatible"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        roles = {"human": "user", "ai": "assistant", "system": "system"}
        payload = {
            "model": self.model,
            "temperature": self.temperature,
            "messages": [{"role": roles.get(m.type, "user"), "content": m.content} for m in messages],
        }
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        response = httpx.post(
            f"{self.base_url.rstrip('/')}/chat/completions", json=payload, headers=headers, timeout=self.timeout
        )
        response.raise_for_status()
        content = response.json()["choices"][0]["message"]["content"]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=content))])


def chat_model(spec: str, base_url: str | None, api_key: str | None) -> BaseChatModel:
    """Resolve 'openai:MODEL' or 'ollama:MODEL' to a chat model."""
    provider, _, model = spec.partition(":")
    if not model:
        raise SettingsError(f"answer.composer '{spec}' must be 'extractive' or 'PROVIDER:MODEL' (openai, ollama).")
    if provider == "openai":
        return OpenAICompatibleChat(model=model, base_url=base_url or "https://api.openai.com/v1", api_key=api_key)
    if provider == "ollama":
        return OpenAICompatibleChat(model=model, base_url=base_url or "http://127.0.0.1:11434/v1", api_key=api_key)
    raise SettingsError(f"Unknown LLM provider '{provider}' in answer.composer; use openai: or ollama:.")


@dataclass
class Passage:
    number: int
    jurisdiction: str
    text: str
    sentence_vectors: np.ndarray
    key: Any  # whatever the caller uses to find the evidence again


@dataclass
class CheckedSentence:
    section: str
    text: str
    passages: list[int]


def render_evidence(passages: list[Passage], labels: list[str]) -> str:
    return "\n".join(
        f"[{p.number}] ({p.jurisdiction}) {label}: {p.text}" for p, label in zip(passages, labels, strict=True)
    )


_MARKERS = re.compile(r"\[(\d+)\]")


def parse_and_check(
    reply: str, passages: dict[int, Passage], encode: Any, min_support: float
) -> tuple[list[CheckedSentence], list[str]]:
    """Keep reply sentences whose markers point at passages that support them; report the rest."""
    kept: list[CheckedSentence] = []
    dropped: list[str] = []
    if reply.strip() == NO_GUIDANCE:
        return kept, dropped
    section = "cross_border"
    lines: list[tuple[str, str]] = []
    for raw in reply.splitlines():
        line = raw.strip()
        heading = re.match(r"^#+\s*(.+?)\s*$", line)
        if heading:
            section = HEADING_GROUPS.get(heading.group(1).strip().lower(), section)
            continue
        line = re.sub(r"^[-*]\s+", "", line)
        if line:
            lines.append((section, line))
    from bot.text import split_sentences

    for section_name, line in lines:
        line = re.sub(r"([.!?])\s*((?:\[\d+\])+)", r" \2\1", line)  # "fact. [2]" -> "fact [2]."
        for sentence in split_sentences(line):
            numbers = [int(n) for n in _MARKERS.findall(sentence)]
            text = _MARKERS.sub("", sentence).strip().rstrip(" .") + "."
            cited = [passages[n] for n in numbers if n in passages]
            if not numbers or len(cited) != len(numbers):
                dropped.append(sentence)
                continue
            if section_name in ("UK", "US") and any(p.jurisdiction != section_name for p in cited):
                dropped.append(sentence)
                continue
            vector = encode(text)
            support = max(float(np.max(p.sentence_vectors @ vector)) for p in cited)
            if support < min_support:
                dropped.append(sentence)
                continue
            kept.append(CheckedSentence(section_name, text, numbers))
    return kept, dropped


def ask_llm(model: BaseChatModel, prompt: str) -> str:
    """Send the filled prompt; return the reply text."""
    result = model.invoke([HumanMessage(content=prompt)])
    return str(result.content)
