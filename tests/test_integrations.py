"""The langchain integration: the bot's retrieval as a BaseRetriever, the pipeline as a Runnable, over the
real model and the fixture corpus."""

from __future__ import annotations

from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from bot.core import Bot
from bot.integrations.langchain import BotRetriever, answer_runnable

QUESTION = "I live in Bristol and keep USDC on a US exchange; what protects me if it fails?"


def test_the_retriever_returns_documents_with_their_sources(fixture_bot: Bot) -> None:
    retriever = BotRetriever(bot=fixture_bot, k=4)
    assert isinstance(retriever, BaseRetriever)
    documents = retriever.invoke(QUESTION)
    assert 0 < len(documents) <= 4
    assert all(isinstance(d, Document) and d.page_content for d in documents)
    for document in documents:
        assert {"doc_id", "section", "locator", "url", "status", "jurisdiction", "score"} <= set(document.metadata)
        assert document.metadata["doc_id"] in fixture_bot.index.documents
    scores = [d.metadata["score"] for d in documents]
    assert scores == sorted(scores, reverse=True)
    assert {d.metadata["jurisdiction"] for d in documents} >= {"UK", "US"}  # the quota per side holds


def test_the_retriever_keeps_to_the_jurisdictions_asked_for(fixture_bot: Bot) -> None:
    documents = BotRetriever(bot=fixture_bot, k=8, jurisdictions=["UK"]).invoke(QUESTION)
    assert documents and {d.metadata["group"] for d in documents} == {"UK"}


def test_the_retriever_finds_nothing_for_another_countrys_rules(fixture_bot: Bot) -> None:
    assert BotRetriever(bot=fixture_bot).invoke("What are Canada's rules for crypto exchanges?") == []


def test_the_pipeline_is_a_runnable(fixture_bot: Bot) -> None:
    chain = answer_runnable(fixture_bot)
    answer = chain.invoke({"question": QUESTION, "jurisdictions": ["UK"], "as_of": "2026-11-24"})
    assert answer.kind == "answer" and answer.citations
    assert answer_runnable(fixture_bot).invoke(QUESTION).kind == "answer"
    assert [a.kind for a in chain.batch([QUESTION, {"question": "Will bitcoin hit $200k next year?"}])] == [
        "answer",
        "refusal",
    ]
