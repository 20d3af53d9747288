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
