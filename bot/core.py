"""The one core call: Bot.ask(question) -> Answer. Every interface is a thin layer over it."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.analysis import generic_firms, has_own_subject, merge_history
from bot.analysis.patterns import answer_parts, question_parts
from bot.compose import relevance
from bot.compose.citations import finish
from bot.compose.extractive import decide_kind, select
from bot.compose.llm_answer import LlmParts, StreamEvent, llm_answer
from bot.corpus import corpus_version, load_corpus
from bot.embeddings import Embedder, Encoder, query_encoder, quiet_blas, shared_embedder
from bot.errors import BotError, CorpusError, IndexMismatchError, IndexMissingError, QuestionError
from bot.index import BuildReport, Index, build_index, corpus_hashes
from bot.intent import bundled_classifier
from bot.pointer import current_build
from bot.retrieval import retrieve
from bot.settings import Settings
from bot.types import Answer, Diagnostics, Document, Evidence, Profile, answer_lines

log = logging.getLogger(__name__)


MAX_HISTORY_TURNS = 6  # earlier user turns read; older ones no longer shape the answer


def _history_questions(history: Sequence[Any] | None, max_chars: int) -> list[str]:
    """Earlier user turns from [str], [{'role','content'}] or [(user, bot)] history: the last few that
    the bot accepted (an empty or over-long turn was rejected, so it is not part of the conversation)."""
    turns = _user_turns(history)
    for number, turn in enumerate(turns, 1):
        if not is_text(turn):
            raise QuestionError(f"Turn {number} of the history is not valid text (it holds a lone surrogate).")
    questions = [q.strip() for q in turns if q.strip() and len(q.strip()) <= max_chars]
    return questions[-MAX_HISTORY_TURNS:]


def is_text(value: str) -> bool:
    """False for a string that cannot be encoded as UTF-8 (a lone surrogate such as \\ud800)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _user_turns(history: Sequence[Any] | None) -> list[str]:
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


@dataclass
class _Gathered:
    """What an answer is composed from: the profile, the question as searched, its vector, the evidence."""

    profile: Profile
    search_question: str
    query_vector: np.ndarray
    evidence: list[Evidence]
    part_vectors: list[np.ndarray] = field(default_factory=list)  # one per part of a several-part question


class Bot:
    """Holds the model and the index; answers questions."""

    def __init__(
        self,
        settings: Settings,
        embedder: Encoder | None = None,
        progress: Callable[[str], None] | None = None,
        *,
        llm: Any = None,
        index: Index | None = None,
    ) -> None:
        """Load the model and open the index; `progress` is told what is loading (the CLI prints it).

        Seams: pass an `embedder` (a query encoder), an `llm` (any langchain chat model, used instead of
        the one settings.llm.model names: tests pass a recording fake) or an already open `index` to share."""
        say = progress or log.info
        quiet_blas()
        self.settings = settings
        self.prompts: Any = None
        self.llm: Any = llm
        if llm is not None or settings.llm.model != "extractive":  # only the LLM composer reads the prompt templates
            from bot.compose.llm import chat_model, load_prompts

            self.prompts = load_prompts(settings.llm.prompts_dir)  # a broken prompt fails at start-up, not mid-answer
            if llm is None:
                self.llm = chat_model(settings.llm.model, settings.llm)
        if embedder is None:
            say("Loading the embedding model…")
            embedder = query_encoder(settings, say)
        self.embedder: Encoder = embedder
        self._lock = threading.Lock()
        self.stale_reason: str | None = None
        if index is None:
            say("Opening the index…")
            index = self._open()
        self.index = index

    def _open(self) -> Index:
        try:
            index = Index(self.settings, self.embedder)
        except (IndexMissingError, IndexMismatchError) as exc:
            if isinstance(exc, IndexMismatchError) and self.settings.index.on_stale == "error":
                raise
            log.info("%s Building the index now.", exc)
            build_index(self.settings, self._index_embedder())
            return Index(self.settings, self.embedder)
        files = index.manifest.get("files")
        if files and files == corpus_hashes(self.settings.corpus.path):
            return index  # the very files it was built from: no need to parse the corpus
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
        build_index(self.settings, self._index_embedder())
        return Index(self.settings, self.embedder)

    def _index_embedder(self) -> Embedder:
        """The sentence-transformers model that builds embed with (the query encoder, unless it is ONNX)."""
        if isinstance(self.embedder, Embedder):
            return self.embedder
        return shared_embedder(self.settings.embedding.model, self.settings.embedding.batch_size)

    def reindex(self) -> BuildReport:
        """Rebuild the index from the corpus; on failure the current index keeps serving."""
        report = build_index(self.settings, self._index_embedder())
        with self._lock:
            old, self.index = self.index, Index(self.settings, self.embedder)
            self.stale_reason = None
        if old.build_id != self.index.build_id:
            old.close()
        return report

    def refresh(self) -> bool:
        """Switch to the current build if `bot index` (in this process or another) has made a new one.

        Running servers call this every few seconds, so replicas that share the index folder follow
        each build without a restart. Requests in flight keep the index they started with. A build that
        cannot be opened is logged and the current index keeps serving."""
        try:
            current = current_build(self.settings)  # in Chroma-server mode, the server's pointer
        except BotError as exc:
            log.warning("could not read the index build pointer, still serving %s: %s", self.index.build_id, exc)
            return False
        if not current or current == self.index.build_id:
            return False
        try:
            index = Index(self.settings, self.embedder)
        except BotError as exc:
            log.error("could not switch to index build %s, still serving %s: %s", current, self.index.build_id, exc)
            return False
        with self._lock:
            old, self.index = self.index, index
            self.stale_reason = None
        log.info("switched from index build %s to %s", old.build_id, index.build_id)
        old.close()
        return True

    def sources(self) -> list[Document]:
        """The documents in the index."""
        return sorted(self.index.documents.values(), key=lambda d: (d.jurisdiction, d.publisher, d.id))

    def search(
        self,
        question: str,
        jurisdictions: Sequence[str] | None = None,
        as_of: dt.date | None = None,
    ) -> list[Evidence]:
        """The evidence an answer to `question` would be composed from: the hybrid, jurisdiction-aware
        retrieval alone (no history, no composing), best first. The question is checked, and requests for
        advice, other countries' rules and injections retrieve nothing, as in `ask`."""
        question = self._checked(question, jurisdictions)
        found = self._gather(self.index, question, [], jurisdictions, as_of or dt.date.today(), {})
        return sorted(found.evidence, key=lambda e: -e.score)

    def ask(
        self,
        question: str,
        history: Sequence[Any] | None = None,
        jurisdictions: Sequence[str] | None = None,
        as_of: dt.date | None = None,
    ) -> Answer:
        """Answer a question from the corpus, with citations; never a guess."""
        for event in self.ask_stream(question, history, jurisdictions, as_of):
            if event.answer is not None:
                return event.answer
        raise AssertionError("ask_stream ended without an answer")  # pragma: no cover

    def ask_stream(
        self,
        question: str,
        history: Sequence[Any] | None = None,
        jurisdictions: Sequence[str] | None = None,
        as_of: dt.date | None = None,
    ) -> Iterator[StreamEvent]:
        """The answer as it is written: `line` events (only verified sentences), a `reset` if an LLM
        answer is abandoned for the extractive one, then one `answer` event with the whole answer."""
        started = time.perf_counter()
        question = self._checked(question, jurisdictions)
        as_of = as_of or dt.date.today()
        index = self.index
        timings: dict[str, float] = {}
        earlier = _history_questions(history, self.settings.answer.max_question_chars)
        found = self._gather(index, question, earlier, jurisdictions, as_of, timings)
        profile, search_question, query_vector, evidence = (
            found.profile,
            found.search_question,
            found.query_vector,
            found.evidence,
        )

        mark = time.perf_counter()
        answer: Answer | None = None
        diagnostics: dict[str, Any] = {"composer": "extractive"}
        if self.llm is not None and decide_kind(profile, evidence, self.settings.answer)[0] == "answer":
            shown: list[str] = []
            answer, diagnostics = yield from llm_answer(
                LlmParts(self.llm, self.prompts, self.embedder.encode_query, self.settings),
                question,
                earlier,
                profile,
                evidence,
                query_vector,
                index,
                as_of,
                timings,
                shown,
            )
            if answer is None and shown:
                yield StreamEvent("reset", text=diagnostics.get("fallback", ""))
        if answer is None:
            said = self._said_before(index, earlier, jurisdictions, as_of) if profile.follow_up and earlier else None
            kind, lead, entries = select(
                search_question,
                profile,
                evidence,
                query_vector,
                index,
                self.settings.answer,
                found.part_vectors,
                said or frozenset(),
            )
            answer = finish(question, profile, kind, lead, entries, evidence, index, as_of, timings)
            answer.diagnostics = Diagnostics.model_validate(diagnostics)
            for line in answer_lines(answer):
                yield StreamEvent("line", text=line)
        answer.timings["compose"] = round((time.perf_counter() - mark) * 1000, 2)
        answer.timings["total"] = round((time.perf_counter() - started) * 1000, 2)
        yield StreamEvent("answer", answer=answer)

    def _checked(self, question: str, jurisdictions: Sequence[str] | None) -> str:
        """The question, stripped, or a QuestionError that says what to fix."""
        if not isinstance(question, str) or not question.strip():
            raise QuestionError("The question is empty; type a question about crypto-assets or stablecoins.")
        question = question.strip()
        if not is_text(question):
            raise QuestionError("The question is not valid text (it holds a lone surrogate); type it again.")
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
        return question

    def _gather(
        self,
        index: Index,
        question: str,
        earlier: list[str],
        jurisdictions: Sequence[str] | None,
        as_of: dt.date,
        timings: dict[str, float],
    ) -> _Gathered:
        """Analyse the question (with the conversation so far) and retrieve its evidence; `timings` gets
        the embed, analyse and retrieve stages."""
        # Official guidance is about kinds of firm, not one firm: "Coinbase" would pull in the SEC's Coinbase
        # case for a question about what happens if an exchange fails.
        search_question = generic_firms(question)
        mark = time.perf_counter()
        # Every text this question may be searched by, embedded in one call: the question, its search wording,
        # its parts, and in a conversation the follow-up reading (earlier question + this one).
        wanted = [question, search_question, *question_parts(search_question)]
        if earlier:
            wanted.append(f"{earlier[-1]} {search_question}")
        question_vector = self.embedder.encode_queries(wanted)[0]
        timings["embed"] = round((time.perf_counter() - mark) * 1000, 2)

        mark = time.perf_counter()
        classifier = bundled_classifier()
        predicted = (
            classifier.predict_request(question, question_vector, self.embedder.encode_query) if classifier else None
        )
        profile, _ = merge_history(earlier, question, (predicted.label, predicted.confidence) if predicted else None)
        timings["analyse"] = round((time.perf_counter() - mark) * 1000, 2)

        merged = profile.follow_up and earlier and not profile.own_subject
        query_text = search_question if not merged else f"{earlier[-1]} {search_question}"
        if query_text != question:
            mark = time.perf_counter()
            query_vector = self.embedder.encode_query(query_text)
            timings["embed"] += round((time.perf_counter() - mark) * 1000, 2)
        else:
            query_vector = question_vector

        mark = time.perf_counter()
        evidence = (
            []
            if profile.intent in ("out_of_scope", "other_country", "injection")
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
        part_vectors: list[np.ndarray] = []
        if profile.intent == "information" and evidence:
            part_vectors = self._search_parts(index, search_question, profile, evidence, jurisdictions, as_of)
            if query_text != search_question and has_own_subject(search_question):
                # "what about once I sell it and the pounds sit in my UK bank, how much is covered?": a
                # follow-up with a subject of its own is searched on its own too, so that the earlier
                # question's words do not crowd its sources out.
                self._add_evidence(index, question_vector, search_question, profile, evidence, jurisdictions, as_of)
                part_vectors.append(question_vector)
        timings["retrieve"] = round((time.perf_counter() - mark) * 1000, 2)
        return _Gathered(profile, search_question, query_vector, evidence, part_vectors)

    def _said_before(
        self, index: Index, earlier: list[str], jurisdictions: Sequence[str] | None, as_of: dt.date
    ) -> frozenset[str]:
        """The sentences the answer to the previous turn quoted, so that a follow-up does not repeat them.
        The history holds only the investor's questions, so that answer is worked out again (extractive,
        a few tens of milliseconds)."""
        found = self._gather(index, earlier[-1], earlier[:-1], jurisdictions, as_of, {})
        quiet = relevance.RECORD.set(None)  # the earlier answer's bullets are not this answer's to grade
        try:
            _, _, entries = select(
                found.search_question,
                found.profile,
                found.evidence,
                found.query_vector,
                index,
                self.settings.answer,
                found.part_vectors,
            )
        finally:
            relevance.RECORD.reset(quiet)
        return frozenset(text for section in entries.values() for text, _ in section)

    def _search_parts(
        self,
        index: Index,
        question: str,
        profile: Profile,
        evidence: list[Evidence],
        jurisdictions: Sequence[str] | None,
        as_of: dt.date,
    ) -> list[np.ndarray]:
        """Each part of a several-part question searched on its own too, so that one part's words do not
        crowd the other's sources out; its evidence is added to `evidence`. Returns the parts' vectors."""
        vectors: list[np.ndarray] = []
        for part in answer_parts(question):
            vectors.append(self.embedder.encode_query(part))
            self._add_evidence(index, vectors[-1], part, profile, evidence, jurisdictions, as_of)
        return vectors

    def _add_evidence(
        self,
        index: Index,
        vector: np.ndarray,
        text: str,
        profile: Profile,
        evidence: list[Evidence],
        jurisdictions: Sequence[str] | None,
        as_of: dt.date,
    ) -> None:
        """Search `text` on its own and add the chunks not yet in `evidence`."""
        wanted = list(jurisdictions) if jurisdictions else None
        known = {e.chunk.id for e in evidence}
        for item in retrieve(index, vector, text, profile, self.settings.retrieval, as_of, wanted, {}):
            if item.chunk.id not in known:
                known.add(item.chunk.id)
                evidence.append(item)


def load(
    settings: Settings | None = None,
    *,
    llm: Any = None,
    embedder: Encoder | None = None,
    index: Index | None = None,
    **overrides: Any,
) -> Bot:
    """Load settings (env / defaults / overrides), the model and the index, once; `llm`, `embedder` and
    `index` are Bot's seams (a chat model object, a query encoder, an open index to share)."""
    if settings is None:
        settings = Settings(**overrides) if overrides else Settings()
    return Bot(settings, embedder, llm=llm, index=index)
