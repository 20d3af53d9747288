"""Retrieval steps that need no model: ranking across jurisdictions."""

from __future__ import annotations

from typing import Any

import pytest

from bot.retrieval import calibrate_groups
from bot.types import Evidence


def evidence(group: str, score: float, dense: float, asked: float = 0.0) -> Evidence:
    placeholder: Any = None  # the calibration reads only the scores, the group and the similarities
    return Evidence(placeholder, placeholder, placeholder, score, dense, group, asked)


def test_the_side_the_question_is_about_ranks_first() -> None:
    # Per-jurisdiction fusion gives both sides' first chunks the same score; the US match is the better one.
    items = [evidence("UK", 0.05, 0.40), evidence("UK", 0.04, 0.35), evidence("US", 0.05, 0.70, asked=0.80)]
    calibrated = calibrate_groups(items, 1.0)
    assert [e.group for e in sorted(calibrated, key=lambda e: -e.score)] == ["US", "UK", "UK"]
    assert calibrated[2].score == pytest.approx(0.05)  # the best side keeps its scores
    assert calibrated[0].score == pytest.approx(0.05 * 0.40 / 0.80)  # the investor question's match counts
    # Within a jurisdiction the ratios stay, so composing from relative scores is unchanged.
    assert calibrated[1].score / calibrated[0].score == pytest.approx(0.04 / 0.05)


def test_power_zero_leaves_the_scores_alone() -> None:
    items = [evidence("UK", 0.05, 0.40), evidence("INTL", 0.05, 0.90)]
    assert calibrate_groups(items, 0.0) == items
    assert calibrate_groups([], 1.0) == []


def test_a_retrievers_leader_does_not_take_a_documents_best_fused_section() -> None:
    # Rows 0-4 are chunks of one document; the dense and BM25 leaders (rows 3, 4) rank low by fusion. Before,
    # the leaders took two of the document's three places and its best fused chunk (row 0) could be lost.
    from types import SimpleNamespace

    from bot.retrieval import select
    from bot.settings import RetrievalSettings

    chunks = [SimpleNamespace(doc_id="boe") for _ in range(5)] + [SimpleNamespace(doc_id="other")]
    index: Any = SimpleNamespace(chunks=chunks)
    ranked = [(0, 0.9), (1, 0.8), (5, 0.7), (2, 0.6), (3, 0.5), (4, 0.4)]
    kept = select(index, ranked, 4, RetrievalSettings(max_chunks_per_document=3), leaders=[3, 4])
    rows = [row for row, _ in kept]
    assert rows[:2] == [3, 4]  # the leaders are kept and come first
    assert 0 in rows  # the best fused chunk keeps its place
    assert len(rows) == 4
    # With no leader missing, the fused order stands, leaders first.
    kept = select(index, ranked, 3, RetrievalSettings(max_chunks_per_document=3), leaders=[1])
    assert [row for row, _ in kept] == [1, 0, 5]


def test_the_dense_product_over_a_large_index_is_split_between_threads_with_the_same_figures() -> None:
    from types import SimpleNamespace

    import numpy as np

    from bot.retrieval import LARGE, dense_similarities

    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((LARGE + 1_001, 16)).astype(np.float32)
    query = rng.standard_normal(16).astype(np.float32)
    index = SimpleNamespace(remote=False, chunk_vectors=vectors)
    assert np.array_equal(dense_similarities(index, query), vectors @ query)  # type: ignore[arg-type]


def test_selling_and_buying_back_reads_as_the_uk_matching_rules() -> None:
    """'sold at a loss then bought it back' is what HMRC's 30-day ('bed and breakfasting') rule decides:
    its official words join the lexical search."""
    from bot.retrieval import synonym_terms

    found = synonym_terms("Sold my BTC at a loss then bought it back 2 weeks later. Can I use the loss?")
    assert "30-day" in found and "breakfast" in " ".join(found)
    assert "30-day" not in synonym_terms("I bought bitcoin in 2020 and sold it this year. What do I owe?")


def test_choosing_lots_searches_for_the_irs_basis_rules_but_lots_of_coins_does_not() -> None:
    from bot.retrieval import synonym_terms

    assert "fifo" in synonym_terms("can I still choose which lots I'm selling or is it first-in-first-out now?")
    assert "fifo" not in synonym_terms("I bought lots of bitcoin in 2021, is it taxed when I sell?")


def test_referring_a_complaint_is_not_a_referral_bonus() -> None:
    from bot.retrieval import synonym_terms

    assert "incentive" in synonym_terms("the app pays £50 if I refer my friends and they buy crypto, is that allowed?")
    assert "incentive" not in synonym_terms("can I refer my complaint to the ombudsman after 8 weeks?")
