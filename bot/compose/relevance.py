"""Is a chosen sentence about *this* question for *this* investor? A small logistic model, learned.

The extractive composer ranks sentences with hand-set weights and then keeps the best few per
jurisdiction. Ranking is not the same as relevance: the third-best UK sentence can still be about
another product or another kind of investor. Reviewers graded every bullet of the answers to the
development set's *tune* split and to the probes of eval/probes (questions written from official pages
by helpers who read neither the corpus nor the development set, and tuned on) with the blind-review
rubric (docs/review-rubric.md) as on or off topic (bot/data/relevance_labels.jsonl);
`scripts/train_relevance.py` fits this model on those labels over the score's own parts and where the
sentence sits in the answer, and writes bot/data/relevance_model.npz. Bullets the model finds unlikely
to be on topic are left out; a section left with nothing is left out. Nothing from the validation
split or the blind set is used.
"""

from __future__ import annotations

import contextvars
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from bot.analysis.patterns import _uk_place, _us_match
from bot.analysis.vocabulary import TOPICS, UK_CUES, US_CUES
from bot.types import Profile

FEATURES = (
    "similarity",  # cosine of the sentence to the question
    "overlap",  # share of the question's words in the sentence
    "specific",  # words shared beyond the corpus-wide ones (capped at 5, scaled to 0..1)
    "section_match",  # closeness of the section's investor questions ('Q:' lines)
    "chunk_prior",  # the chunk's fused score against the best of its jurisdiction
    "chunk_similarity",  # cosine of the whole chunk to the question
    "relative_score",  # the sentence's score against the best candidate of the answer
    "rank",  # position under its heading (0 = first)
    "next_steps",  # under "What you can check or do next"
    "cross_border",  # under "Across the border"
    "reach",  # how many of residence, citizenship, platform, issuer point at this jurisdiction (0..1)
    "persona_known",  # the investor said where they live, their citizenship or their platform
    "single_side",  # only one jurisdiction has anything to say
    "action",  # a step the reader can take
    "type_match",  # a figure for a how-much/when question, a yes or no for a yes/no question
    "length",  # words / 50
    "topic_match",  # share of the question's topics (analysis TOPICS) the sentence is about (0.5: none)
    "foreign_topic",  # the sentence is about a topic and about none of the question's topics
    "tax_other_side",  # a tax question, and this jurisdiction is neither where the investor lives nor their citizenship
    "asked_side",  # the jurisdiction is one the question reaches (profile.jurisdictions)
    "named_side",  # the question itself names this jurisdiction (a place, a body, a currency or a tax form)
    "help_question",  # the question is about complaints, scams or checking a firm
    "next_step_help",  # a next step, for a question about complaints, scams or checking a firm
    "redundancy",  # the highest cosine to a bullet placed before it in the answer
)
HELP_TOPICS = frozenset({"complaints", "scams", "registration"})


def _data_path(name: str) -> Path:
    return Path(str(resources.files("bot") / "data" / name))


LABELS_PATH = _data_path("relevance_labels.jsonl")
MODEL_PATH = _data_path("relevance_model.npz")

# When set (scripts/relevance_pack.py), every sentence the composer picks is recorded with its features,
# before the relevance check, so that a reviewer can label it.
RECORD: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar("relevance_record", default=None)


def reach(group: str, profile: Profile) -> float:
    places = (profile.residence, profile.citizenship, profile.platform_location, profile.issuer_location)
    return sum(1 for place in places if place == group) / 2


def row(
    *,
    similarity: float,
    overlap: float,
    specific: int,
    section_match: float,
    chunk_prior: float,
    chunk_similarity: float,
    relative_score: float,
    rank: int,
    section: str,
    group: str,
    profile: Profile,
    single_side: bool,
    action: bool,
    type_match: bool,
    text: str,
    question: str,
    redundancy: float = 0.0,
) -> list[float]:
    # Long only because each feature is its own keyword argument (the order is FEATURES'); the body is
    # one list of them, kept together so that a feature and its position cannot drift apart.
    known = any((profile.residence, profile.citizenship, profile.platform_location))
    lowered = text.lower()
    about = {name for name, pattern in TOPICS.items() if re.search(pattern, lowered)}
    asked = set(profile.topics)
    topic_match = len(about & asked) / len(asked) if asked else 0.5
    foreign = bool(asked and about and not about & asked)
    person = profile.person_sides()
    lowered_question = question.lower()
    if group == "UK":
        named = bool(
            _uk_place(question)
            or re.search(UK_CUES, lowered_question)
            or re.search(r"\buk\b|britain", lowered_question)
        )
    elif group == "US":
        named = bool(_us_match(question) or re.search(US_CUES, lowered_question))
    else:
        named = False
    help_question = bool(asked & HELP_TOPICS)
    tax_other_side = "tax" in asked and group in ("UK", "US") and bool(person) and group not in person
    return [
        similarity,
        overlap,
        min(specific, 5) / 5,
        section_match,
        chunk_prior,
        chunk_similarity,
        relative_score,
        float(rank),
        float(section == "next_steps"),
        float(section == "cross_border"),
        min(1.0, reach(group, profile)),
        float(known),
        float(single_side),
        float(action),
        float(type_match),
        len(text.split()) / 50,
        topic_match,
        float(foreign),
        float(tax_other_side),
        float(group in profile.jurisdictions),
        float(named),
        float(help_question),
        float(section == "next_steps" and help_question),
        redundancy,
    ]


@dataclass(frozen=True)
class RelevanceModel:
    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray
    threshold: float  # the probability below which a bullet is left out, chosen on the tune labels
    section_threshold: float  # a heading whose best bullet is below this is left out whole
    data_hash: str

    def probability(self, rows: np.ndarray, asked: np.ndarray | None = None) -> np.ndarray:
        """P(on topic) per row. `asked` says per row whether its section lists investor questions ('Q:'
        lines); where it does not (an operator's own pages, say), section_match is unknown, not zero,
        and takes the training mean, so that such sections are judged on their other features."""
        if asked is not None and not asked.all():
            rows = rows.copy()
            column = FEATURES.index("section_match")
            rows[~asked, column] = self.mean[column]
        z = ((rows - self.mean) / self.scale) @ self.weights + self.bias
        return 1 / (1 + np.exp(-z))


def data_hash(path: Path = LABELS_PATH) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.exists() else ""


@lru_cache(maxsize=1)
def load(path: Path = MODEL_PATH) -> RelevanceModel | None:
    """The trained model, or None when none has been trained (then nothing is filtered)."""
    if not path.exists():
        return None
    data = np.load(path, allow_pickle=False)
    if tuple(str(name) for name in data["features"]) != FEATURES:
        return None  # trained on another feature set: retrain with scripts/train_relevance.py
    return RelevanceModel(
        weights=data["weights"],
        bias=float(data["bias"]),
        mean=data["mean"],
        scale=data["scale"],
        threshold=float(data["threshold"]),
        section_threshold=float(data["section_threshold"]),
        data_hash=str(data["data_hash"]),
    )
