"""The lexical index: rank_bm25's BM25Okapi scores, from postings that are saved with each build."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from bot.embeddings import shared_embedder
from bot.index import Index, build_index, lexical_terms, read_current
from bot.lexical import LexicalIndex
from bot.settings import Settings
from bot.text import terms

from .conftest import FIXTURE_CORPUS, make_settings

TEXTS = [
    "The FSCS does not protect cryptoassets if a crypto exchange fails.",
    "Capital Gains Tax is due when you sell or swap cryptoassets; HMRC's guidance explains the allowance.",
    "The IRS treats digital assets as property; report them on Form 1040 and Form 8949.",
    "Stablecoin issuers under the GENIUS Act hold reserves and must redeem at par.",
    "Crypto firms must be registered with the FCA; check the Financial Services Register.",
    "Exchange exchange exchange: a chunk that repeats one word, and is long enough to change the average "
    "length of the corpus, which the length normalisation reads.",
    "the and of",  # only stop words: an empty term list
    "FSCS FSCS compensation",
]

QUERIES = [
    "Is my crypto protected by the FSCS if the exchange fails?",
    "tax tax on selling bitcoin",  # a repeated term counts twice
    "GENIUS Act reserves redemption",
    "word that no chunk has",
    "exchange",  # in most chunks: a negative idf, floored at epsilon times the mean
    "",
]


@pytest.mark.parametrize("query", QUERIES)
def test_scores_equal_rank_bm25(query: str) -> None:
    documents = [terms(text) for text in TEXTS]
    expected = BM25Okapi(documents).get_scores(terms(query))
    got = LexicalIndex.build(documents).scores(terms(query))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


def test_scores_equal_rank_bm25_on_the_fixture_corpus(fixture_bot: object) -> None:
    index: Index = fixture_bot.index  # type: ignore[attr-defined]
    documents = lexical_terms(index.chunks, index.sections)
    reference = BM25Okapi(documents)
    for query in QUERIES + ["UK resident with USDC on a US exchange: FSCS or SIPC?", "HMRC staking income"]:
        expected = reference.get_scores(terms(query))
        np.testing.assert_allclose(index.lexical.scores(terms(query)), expected, rtol=0, atol=1e-6)


def test_saved_postings_round_trip(tmp_path: Path) -> None:
    built = LexicalIndex.build([terms(text) for text in TEXTS])
    built.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    assert loaded is not None and loaded.vocabulary == built.vocabulary
    for query in QUERIES:
        assert np.array_equal(loaded.scores(terms(query)), built.scores(terms(query)))


def test_a_build_saves_its_postings_and_an_older_build_still_opens(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    settings: Settings = make_settings(corpus, tmp_path / "index")
    embedder = shared_embedder()
    build_index(settings, embedder)
    build_dir = settings.index.path / "builds" / str(read_current(settings.index.path))
    assert LexicalIndex.load(build_dir) is not None
    query = terms("Is crypto on a failed exchange protected by the FSCS?")
    saved = Index(settings, embedder).lexical.scores(query)

    for name in ("lexical_postings.npz", "lexical_terms.json"):  # as a build made before this change
        (build_dir / name).unlink()
    assert LexicalIndex.load(build_dir) is None
    assert np.array_equal(Index(settings, embedder).lexical.scores(query), saved)


def test_scores_added_to_earlier_scores_equal_the_whole_query_bit_for_bit() -> None:
    """Retrieval scores the question's terms once and adds each jurisdiction's expansion terms to a copy."""
    index = LexicalIndex.build([terms(text) for text in TEXTS])
    base, extra = terms("Is my crypto protected by the FSCS?"), terms("compensation exchange FSCS")
    start = index.scores(base)
    assert np.array_equal(index.scores(extra, start=start), index.scores(base + extra))
    assert np.array_equal(start, index.scores(base))  # the earlier scores are not changed


def test_the_best_rows_of_a_large_index_are_those_a_full_sort_gives() -> None:
    from bot.retrieval import LARGE, _best

    rng = np.random.default_rng(3)
    for size in (50, LARGE + 500):
        scores = rng.random(size)
        assert np.array_equal(_best(scores, 24), np.argsort(-scores)[:24])
