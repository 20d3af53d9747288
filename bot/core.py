"""The one core call: Bot.ask(question) -> Answer. Every interface is a thin layer over it."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from bot.analysis import merge_history
from bot.answer import compose, compose_with_llm, decide_kind
from bot.corpus import corpus_version, load_corpus
from bot.embeddings import Embedder, shared_embedder
from bot.errors import CorpusError, IndexMismatchError, IndexMissingError, QuestionError
from bot.index import BuildReport, Index, build_index
from bot.retrieval import retrieve
from bot.settings import Settings
from bot.types import Answer, Document

log = logging.getLogger(__name__)


def _history_questions(history: Sequence[Any] | None) -> list[str]:
    """Earlier user turns from [str], [{'role','content'}] or [(user, bot)] history."""
    questions: list[str] = []
    for turn in history or []:
        if isinstance(turn, str):
            questions.append(turn)
        elif isinstance(turn, dict):
            if turn.get("role", "user") == "user" and isinstance(turn.get("content"), str):
                questions.append(turn["content"])
        elif isinstance(turn, (list, tuple)) and turn and isinstance(turn[0], str):
            questions.append(turn[0])
    return questions


class Bot:
    """Holds the model and the index; answers questions."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or shared_embedder(settings.embedding.model, settings.embedding.batch_size)
        self._lock = threading.Lock()
        self.stale_reason: str | None = None
        self.index = self._open()
        self.llm: Any = None
        self.prompt = ""
        if settings.answer.composer != "extractive":
            from bot.llm import ANSWER_PROMPT_VARIABLES, chat_model, load_prompt

            self.prompt = load_prompt("answer", ANSWER_PROMPT_VARIABLES)  # fails at start-up, not mid-answer
            self.llm = chat_model(settings.answer.composer, settings.answer.llm_base_url, settings.answer.llm_api_key)

    def _open(self) -> Index:
        try:
            index = Index(self.settings, self.embedder)
        except (IndexMissingError, IndexMismatchError) as exc:
            if isinstance(exc, IndexMismatchError) and self.settings.index.on_stale == "error":
                raise
            log.info("%s Building the index now.", exc)
            build_index(self.settings, self.embedder)
            return Index(self.settings, self.embedder)
        try:
            version = corpus_version(load_corpus(self.settings.corpus.path))
        except CorpusError as exc:
            self.stale_reason = f"the corpus has errors, serving the previous index: {exc}"
            log.error("%s", self.stale_reason)
            return index
        if version == index.corpus_version:
            return index
        message = (
            f"The index was built from corpus {index.corpus_version}, but {self.settings.corpus.path} "
            f"is now corpus {version}."
        )
        if self.settings.index.on_stale == "error":
            raise IndexMismatchError(message + " Run `bot index` to rebuild it.")
        if self.settings.index.on_stale == "warn":
            self.stale_reason = message
            log.warning("%s Serving the old index (index.on_stale=warn).", message)
            return index
        log.info("%s Updating the index.", message)
        build_index(self.settings, self.embedder)
        return Index(self.settings, self.embedder)

    def reindex(self) -> BuildReport:
        """Rebuild the index from the corpus; on failure the current index keeps serving."""
        report = build_index(self.settings, self.embedder)
        with self._lock:
            self.index = Index(self.settings, self.embedder)
            self.stale_reason = None
        return report

    def sources(self) -> list[Document]:
        """The documents in the index."""
        return sorted(self.index.documents.values(), key=lambda d: (d.jurisdiction, d.publisher, d.id))

    def ask(
        self,
        question: str,
        history: Sequence[Any] | None = None,
        jurisdictions: Sequence[str] | None = None,
        as_of: dt.date | None = None,
    ) -> Answer:
        """Answer a question from the corpus, with citations; never a guess."""
        started = time.perf_counter()
        if not isinstance(question, str) or not question.strip():
            raise QuestionError("The question is empty; type a question about crypto-assets or stablecoins.")
        question = question.strip()
        limit = self.settings.answer.max_question_chars
        if len(question) > limit:
            raise QuestionError(
                f"The question is {len(question)} characters long; the limit is {limit}. Shorten it to the "
                "essentials (where you live, where the platform is, the asset, what you want to know)."
            )
        if jurisdictions:
            unknown = [j for j in jurisdictions if j.upper() not in ("UK", "US", "INTL")]
            if unknown:
                raise QuestionError(f"Unknown jurisdiction(s) {unknown}; use UK, US or both.")
        as_of = as_of or dt.date.today()
        index = self.index
        timings: dict[str, float] = {}

        mark = time.perf_counter()
        earlier = _history_questions(history)
        profile, _ = merge_history(earlier, question)
        timings["analyse"] = round((time.perf_counter() - mark) * 1000, 2)

        mark = time.perf_counter()
        query_text = question if not profile.follow_up or not earlier else f"{earlier[-1]} {question}"
        query_vector = self.embedder.encode_query(query_text)
        timings["embed"] = round((time.perf_counter() - mark) * 1000, 2)

        mark = time.perf_counter()
        evidence = (
            []
            if profile.intent == "out_of_scope"
            else retrieve(
                index,
                query_vector,
                query_text,
                profile,
                self.settings.retrieval,
                as_of,
                list(jurisdictions) if jurisdictions else None,
                timings,
            )
        )
        timings["retrieve"] = round((time.perf_counter() - mark) * 1000, 2)

        mark = time.perf_counter()
        answer = None
        if self.llm is not None and decide_kind(profile, evidence, self.settings.answer)[0] == "answer":
            answer = compose_with_llm(
                question,
                profile,
                evidence,
                index,
                self.settings.answer,
                as_of,
                timings,
                self.llm,
                self.prompt,
                self.embedder.encode_query,
            )
        if answer is None:
            answer = compose(question, profile, evidence, query_vector, index, self.settings.answer, as_of, timings)
        answer.timings["compose"] = round((time.perf_counter() - mark) * 1000, 2)
        answer.timings["total"] = round((time.perf_counter() - started) * 1000, 2)
        return answer


def load(settings: Settings | None = None, **overrides: Any) -> Bot:
    """Load settings (env / defaults / overrides), the model and the index, once."""
    if settings is None:
        settings = Settings(**overrides) if overrides else Settings()
    return Bot(settings)
