"""The bot as langchain users know it: a `BaseRetriever` over the hybrid, jurisdiction-aware retrieval,
and the whole pipeline as a `Runnable`.

    from bot.core import load
    from bot.integrations.langchain import BotRetriever, answer_runnable

    bot = load()
    docs = BotRetriever(bot=bot, k=5, jurisdictions=["UK"]).invoke("Is my crypto covered by the FSCS?")
    answer = answer_runnable(bot).invoke({"question": "Is my crypto covered by the FSCS?"})

Each retrieved `Document` carries the chunk's text and, in its metadata, where it comes from: doc_id,
title, publisher, jurisdiction, section, locator, anchor, url, status, the retrieval group and score.
The retrieval keeps what a plain vector store would not: dense and BM25 rankings fused, a quota per
jurisdiction, and the as-of and status filters.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import ConfigDict

from bot.types import Answer, Evidence


def to_document(evidence: Evidence) -> Document:
    section = evidence.section
    status = evidence.status
    return Document(
        page_content=evidence.chunk.text,
        metadata={
            "doc_id": evidence.document.id,
            "title": evidence.document.title,
            "publisher": evidence.document.publisher,
            "jurisdiction": evidence.document.jurisdiction,
            "section": section.heading,
            "locator": section.locator,
            "anchor": section.anchor,
            "url": evidence.document.url,
            "status": status,
            "group": evidence.group,
            "score": evidence.score,
        },
    )


class BotRetriever(BaseRetriever):
    """The bot's retrieval as a langchain retriever (`bot` is a loaded `bot.core.Bot`)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    bot: Any
    k: int = 8
    jurisdictions: list[str] | None = None  # UK, US, INTL; None: as the question implies
    as_of: dt.date | None = None  # rules as they stood on this day; None: today

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        evidence = self.bot.search(query, jurisdictions=self.jurisdictions, as_of=self.as_of)
        return [to_document(e) for e in evidence[: self.k]]


def answer_runnable(bot: Any) -> Runnable[Any, Answer]:
    """The whole pipeline as a Runnable: a question string, or a dict with `question` and optionally
    `history`, `jurisdictions` and `as_of`, in; the cited `Answer` out."""

    def run(request: Any) -> Answer:
        if isinstance(request, str):
            return bot.ask(request)  # type: ignore[no-any-return]
        options = {key: request.get(key) for key in ("history", "jurisdictions", "as_of")}
        if isinstance(options["as_of"], str):
            options["as_of"] = dt.date.fromisoformat(options["as_of"])
        return bot.ask(request["question"], **options)  # type: ignore[no-any-return]

    return RunnableLambda(run, name="cross_border_guidance_bot")
