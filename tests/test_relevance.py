"""The learned bullet relevance check (bot/compose/relevance.py): trained on the tune split only, on the
shipped labels, and applied so that it never empties an answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.compose import extractive, relevance
from bot.eval.questions import split_of
from bot.settings import AnswerSettings
from bot.types import Profile


def test_the_shipped_model_was_trained_on_the_shipped_labels() -> None:
    model = relevance.load()
    assert model is not None, "bot/data/relevance_model.npz is missing: run scripts/train_relevance.py"
    assert model.data_hash == relevance.data_hash(), (
        "bot/data/relevance_labels.jsonl changed after the model was trained: run scripts/train_relevance.py"
    )
    assert 0 < model.threshold < 1


def test_labels_come_from_the_tune_split_and_the_probes_only() -> None:
    rows = [json.loads(line) for line in relevance.LABELS_PATH.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 500
    root = Path(__file__).resolve().parent.parent / "eval"
    probes = {
        json.loads(line)["id"]
        for path in (root / "probes").glob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    leaked = sorted({r["id"] for r in rows if r["id"] not in probes and split_of(r["id"]) != "tune"})
    assert not leaked, f"labels from the validation split or the blind set would flatter its figures: {leaked[:5]}"
    assert all(len(r["features"]) == len(relevance.FEATURES) for r in rows)


class _Evidence:
    def __init__(self, group: str) -> None:
        self.group = group
        self.dense_similarity = 0.5
        self.document = type("Doc", (), {"id": f"{group.lower()}-doc"})()
        self.section = type("Section", (), {"questions": ("Is my crypto protected?",)})()


def _candidate(text: str, similarity: float, group: str = "UK") -> Any:
    return extractive._Candidate(
        evidence=_Evidence(group),  # type: ignore[arg-type]
        text=text,
        vector=np.zeros(3),
        score=similarity,
        is_action=False,
        similarity=similarity,
    )


def _model(threshold: float) -> relevance.RelevanceModel:
    # Probability rises with the sentence's similarity alone.
    weights = np.zeros(len(relevance.FEATURES))
    weights[relevance.FEATURES.index("similarity")] = 20.0
    return relevance.RelevanceModel(
        weights=weights,
        bias=-10.0,
        mean=np.zeros(len(relevance.FEATURES)),
        scale=np.ones(len(relevance.FEATURES)),
        threshold=threshold,
        section_threshold=0.0,
        data_hash="",
    )


def test_off_topic_bullets_are_left_out_and_the_best_one_always_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(relevance, "load", lambda: _model(0.5))
    strong, weak, weaker = _candidate("strong", 0.9), _candidate("weak", 0.3), _candidate("weaker", 0.2, "US")
    sections = {"UK": [(strong, "UK"), (weak, "UK")], "US": [(weaker, "US")], "cross_border": [], "next_steps": []}
    extractive._keep_relevant("Is it covered?", sections, [strong, weak, weaker], Profile(), False, AnswerSettings())
    assert [c.text for c, _ in sections["UK"]] == ["strong"]
    assert sections["US"] == []

    # Everything weak: the single most likely bullet stays, so the answer is never emptied.
    sections = {"UK": [(weak, "UK")], "US": [(weaker, "US")], "cross_border": [], "next_steps": []}
    extractive._keep_relevant("Is it covered?", sections, [weak, weaker], Profile(), False, AnswerSettings())
    assert [c.text for c, _ in sections["UK"]] == ["weak"] and sections["US"] == []


def test_the_check_can_be_switched_off_and_records_what_it_saw(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(relevance, "load", lambda: _model(0.5))
    strong, weak = _candidate("strong", 0.9), _candidate("weak", 0.3)
    sections = {"UK": [(strong, "UK"), (weak, "UK")], "US": [], "cross_border": [], "next_steps": []}
    recorded: list[dict[str, Any]] = []
    token = relevance.RECORD.set(recorded)
    try:
        extractive._keep_relevant(
            "Is it covered?", sections, [strong, weak], Profile(), False, AnswerSettings(min_on_topic_probability=0)
        )
    finally:
        relevance.RECORD.reset(token)
    assert len(sections["UK"]) == 2
    assert [r["text"] for r in recorded] == ["strong", "weak"]
    assert all(len(r["features"]) == len(relevance.FEATURES) for r in recorded)


def test_a_section_without_investor_questions_is_not_judged_as_a_poor_match() -> None:
    weights = np.zeros(len(relevance.FEATURES))
    weights[relevance.FEATURES.index("section_match")] = 5.0
    mean = np.zeros(len(relevance.FEATURES))
    mean[relevance.FEATURES.index("section_match")] = 0.6
    model = relevance.RelevanceModel(
        weights=weights,
        bias=0.0,
        mean=mean,
        scale=np.ones(len(relevance.FEATURES)),
        threshold=0.3,
        section_threshold=0.0,
        data_hash="",
    )
    rows = np.zeros((2, len(relevance.FEATURES)))  # section_match 0 in both rows
    unknown, known = model.probability(rows, np.array([False, True]))
    assert unknown == pytest.approx(0.5)  # the training mean: neither on nor off topic for that reason
    assert known < 0.1
