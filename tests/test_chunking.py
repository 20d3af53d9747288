"""Chunks are bounded by the model's own tokenizer: nothing is silently truncated."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from bot.chunking import chunk_document
from bot.corpus import load_corpus
from bot.embeddings import Embedder, shared_embedder
from bot.text import split_sentences
from bot.types import Document, Section

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return shared_embedder()


def test_no_chunk_of_the_corpus_exceeds_the_model_window(embedder: Embedder) -> None:
    documents = load_corpus(CORPUS)
    for document in documents:
        chunks = chunk_document(document, embedder.count_tokens, 200)
        assert chunks
        for chunk in chunks:
            assert chunk.n_tokens <= 200
            assert embedder.count_tokens(chunk.embed_text) <= embedder.max_seq_length
            assert chunk.doc_id == document.id


def test_chunks_keep_every_sentence_in_order(embedder: Embedder) -> None:
    document = load_corpus(CORPUS)[0]
    chunks = chunk_document(document, embedder.count_tokens, 64)
    for section in document.sections:
        got = [s for c in chunks if c.section_anchor == section.anchor for s in c.sentences]
        assert " ".join(got).split() == " ".join(split_sentences(section.text)).split()


def test_a_sentence_longer_than_the_window_is_split_not_truncated(embedder: Embedder) -> None:
    long_sentence = "The FCA rule covers " + " ".join(f"item{i}" for i in range(600)) + "."
    section = Section(heading="Long", locator="para 1", path=("Long",), anchor="long", text=long_sentence, line=1)
    document = Document(
        id="long",
        title="Long",
        jurisdiction="UK",
        publisher="FCA",
        doc_type="guidance",
        reference="",
        url="https://www.fca.org.uk/x",
        published=dt.date(2025, 1, 1),
        effective=None,
        status="in_force",
        until=None,
        superseded_by=None,
        reviewed=dt.date(2025, 1, 1),
        topics=(),
        sections=(section,),
        path="long.md",
        content_hash="0",
    )
    chunks = chunk_document(document, embedder.count_tokens, 120)
    assert len(chunks) > 3
    assert all(c.n_tokens <= 120 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == long_sentence.split()
    # Without chunking the model would silently drop most of the sentence.
    assert embedder.count_tokens(long_sentence) > embedder.max_seq_length
    assert dataclasses.asdict(chunks[0])["doc_id"] == "long"


def test_an_acronym_ends_a_sentence_but_an_abbreviation_does_not() -> None:
    from bot.text import split_sentences

    text = (
        "A US investor can still complain to the SEC. A US investor whose platform fails may have to wait. "
        "See Sec. 1256 of the Code. Under 26 U.S.C. 6045 brokers report."
    )
    assert split_sentences(text) == [
        "A US investor can still complain to the SEC.",
        "A US investor whose platform fails may have to wait.",
        "See Sec. 1256 of the Code.",
        "Under 26 U.S.C. 6045 brokers report.",
    ]
