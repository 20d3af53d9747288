"""Train the question-intent classifier (bot/intent.py) on bot/data/intent_train.jsonl.

Prints 5-fold cross-validated accuracy per label, then trains on all of it and writes
bot/data/intent_model.npz. Optionally scores a question file with expected kinds (e.g. the blind set)
for a report only: that file is never used for training.

    .venv/bin/python scripts/train_intent.py
    .venv/bin/python scripts/train_intent.py --report-on eval/blind/blind.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bot.embeddings import shared_embedder  # noqa: E402
from bot.intent import LABELS, MODEL_PATH, TRAINING_DATA, IntentClassifier, data_hash, features, train  # noqa: E402

KIND_OF = {
    "information": "answer",
    "personal_advice": "refusal",
    "price_prediction": "refusal",
    "injection": "refusal",
    "other_country": "no_guidance",
    "firm_service": "no_guidance",
    "off_topic": "no_guidance",
}


def load(path: Path) -> tuple[list[str], np.ndarray]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["text"] for r in rows], np.array([LABELS.index(r["label"]) for r in rows])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--report-on", type=Path, help="A question file with expected_kind, for a report only.")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    embedder = shared_embedder()
    texts, y = load(TRAINING_DATA)
    vectors = embedder.encode(texts)
    x = np.stack([features(t, v) for t, v in zip(texts, vectors, strict=True)])
    print(f"{len(texts)} labelled questions: {dict(Counter(LABELS[i] for i in y))}")

    order = np.random.default_rng(0).permutation(len(y))
    predicted = np.zeros_like(y)
    for fold in range(args.folds):
        test = order[fold :: args.folds]
        trained = np.setdiff1d(order, test)
        weights = train(x[trained], y[trained])
        predicted[test] = np.argmax(x[test] @ weights, axis=1)
    print(f"{args.folds}-fold cross-validated accuracy: {np.mean(predicted == y):.3f}")
    for index, label in enumerate(LABELS):
        mask = y == index
        hits = predicted == index
        recall = np.mean(predicted[mask] == index)
        precision = np.mean(y[hits] == index) if hits.any() else float("nan")
        print(f"  {label:17s} recall {recall:.3f}  precision {precision:.3f}  (n={mask.sum()})")

    classifier = IntentClassifier(train(x, y), data_hash())
    classifier.save(MODEL_PATH)
    print(f"wrote {MODEL_PATH}")

    if args.report_on:
        rows = [json.loads(line) for line in args.report_on.read_text().splitlines() if line.strip()]
        rows = [r for r in rows if r.get("expected_kind")]
        question_vectors = embedder.encode([r["question"] for r in rows])
        right = 0
        for row, vector in zip(rows, question_vectors, strict=True):
            kind = KIND_OF[classifier.predict(row["question"], vector).label]
            right += kind == row["expected_kind"]
        print(f"{args.report_on}: intent kind agrees with expected_kind on {right}/{len(rows)} questions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
