"""Could the sentence ranking be learned from the development labels instead of hand-set? A study.

Answers the *tune* split, records every candidate sentence with the parts of its score
(bot/compose/candidates.py RECORD) and whether it holds one of the question's must_mention facts
(bot/eval/matching.contains), then compares, by 5-fold cross-validation over questions, how many facts
the top 3 candidates per jurisdiction hold under the hand-set weights, under pairwise logistic regression
and under a coordinate search started from the hand-set weights. Prints the figures; changes nothing.

    .venv/bin/python scripts/ranking_study.py
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bot import load  # noqa: E402
from bot.compose import candidates  # noqa: E402
from bot.eval.matching import contains  # noqa: E402
from bot.eval.questions import load_questions, split_of  # noqa: E402

# similarity, overlap, dense, chunk prior, question bonus, persona penalty, type bonus (candidates.py)
HAND_SET = np.array(
    [
        1,
        candidates.OVERLAP_WEIGHT,
        0.1,
        candidates.CHUNK_PRIOR,
        candidates.QUESTION_PRIOR,
        -candidates.PERSONA_PENALTY,
        candidates.TYPE_BONUS,
    ]
)
Pack = list[dict[str, Any]]


def pack() -> Pack:
    records, _ = load_questions([Path("eval/questions")])
    records = [
        r for r in records if split_of(r.id) == "tune" and r.must_mention and r.expected_kind in (None, "answer")
    ]
    bot = load()
    found: Pack = []
    for record in records:
        recorded: list[dict[str, Any]] = []
        token = candidates.RECORD.set(recorded)
        try:
            answer = bot.ask(
                record.question,
                history=record.history or None,
                jurisdictions=record.jurisdictions,
                as_of=dt.date(2026, 11, 24),
            )
        finally:
            candidates.RECORD.reset(token)
        if answer.kind != "answer":
            continue
        for c in recorded:
            c["facts"] = [i for i, m in enumerate(record.must_mention) if contains(c["text"], m)]
        found.append({"n_facts": len(record.must_mention), "cands": [c for c in recorded if c["on_topic"]]})
    return found


def top_k_recall(weights: np.ndarray, questions: Pack, k: int = 3) -> float:
    got = total = 0
    for q in questions:
        total += q["n_facts"]
        facts: set[int] = set()
        for group in {c["group"] for c in q["cands"]}:
            ranked = sorted(
                (c for c in q["cands"] if c["group"] == group), key=lambda c: -float(np.dot(weights, c["parts"]))
            )
            for c in ranked[:k]:
                facts |= set(c["facts"])
        got += len(facts)
    return got / max(1, total)


def pairwise(questions: Pack) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    rng = random.Random(0)
    x: list[np.ndarray] = []
    y: list[int] = []
    for q in questions:
        for group in {c["group"] for c in q["cands"]}:
            pool = [c for c in q["cands"] if c["group"] == group]
            negatives = [c for c in pool if not c["facts"]]
            for positive in (c for c in pool if c["facts"]):
                for negative in rng.sample(negatives, min(len(negatives), 30)):
                    d = np.array(positive["parts"]) - np.array(negative["parts"])
                    x += [d, -d]
                    y += [1, 0]
    if not x:
        return HAND_SET
    model = LogisticRegression(fit_intercept=False, C=0.1, max_iter=1000).fit(np.array(x), np.array(y))
    return np.asarray(model.coef_[0])


def coordinate_search(questions: Pack) -> np.ndarray:
    weights, best = HAND_SET.astype(float), top_k_recall(HAND_SET, questions)
    for _ in range(2):
        for i in range(1, len(weights)):
            for factor in (0.0, 0.5, 0.75, 1.5, 2.0):
                trial = weights.copy()
                trial[i] = weights[i] * factor
                if (score := top_k_recall(trial, questions)) > best + 1e-9:
                    weights, best = trial, score
    return weights


def main() -> int:
    questions = pack()
    ceiling = sum(len({f for c in q["cands"] for f in c["facts"]}) for q in questions) / sum(
        q["n_facts"] for q in questions
    )
    print(f"{len(questions)} tune answers; facts held by any candidate: {ceiling:.3f}")
    print(f"hand-set: top 3 {top_k_recall(HAND_SET, questions):.3f}, top 4 {top_k_recall(HAND_SET, questions, 4):.3f}")
    order = list(range(len(questions)))
    random.Random(1).shuffle(order)
    folds = [order[i::5] for i in range(5)]
    scores: dict[str, list[float]] = {"hand-set": [], "pairwise logistic": [], "coordinate search": []}
    for fold in folds:
        test = [questions[i] for i in fold]
        train = [questions[i] for i in order if i not in fold]
        scores["hand-set"].append(top_k_recall(HAND_SET, test))
        scores["pairwise logistic"].append(top_k_recall(pairwise(train), test))
        scores["coordinate search"].append(top_k_recall(coordinate_search(train), test))
    for name, values in scores.items():
        print(f"5-fold CV top-3 fact recall, {name}: {np.mean(values):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
