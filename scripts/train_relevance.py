"""Train the bullet relevance model (bot/compose/relevance.py) on bot/data/relevance_labels.jsonl.

The labels are a reviewer's on/off-topic grades (docs/review-rubric.md) of every bullet the composer
picked for the development set's tune split, joined to the bullets' features by
scripts/relevance_pack.py. Prints 5-fold cross-validated (folds by question) figures for a grid of
a bullet threshold and a section threshold, picks the pair with the smallest off-topic share among
those that keep at least --min-kept of the on-topic bullets, trains on all labels and writes
bot/data/relevance_model.npz.

    .venv/bin/python scripts/train_relevance.py
    .venv/bin/python scripts/train_relevance.py --join /tmp/relevance   # bullets.jsonl + labels-*.jsonl first
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from bot.compose.relevance import FEATURES, LABELS_PATH, MODEL_PATH, data_hash  # noqa: E402


def join(folder: Path, graded: Path | None = None) -> None:
    """Write the labels file from a pack folder's bullets.jsonl and reviewers' labels-*.jsonl.

    The reviewers' grades name bullets by number in the packet they read (the `graded` pack folder,
    by default the same one); they are matched to `folder`'s bullets by question id and sentence text,
    so a re-run of the pack with more features keeps every grade whose sentence is still picked."""
    graded = graded or folder
    seen = {
        (b["id"], b["bullet"]): b["text"]
        for b in map(json.loads, (graded / "bullets.jsonl").read_text(encoding="utf-8").splitlines())
    }
    off: dict[str, set[str]] = {}
    on: dict[str, set[str]] = {}
    for path in sorted(graded.glob("labels-*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{number}: not JSON ({exc.msg})") from exc
            marked = {int(b) for b in entry.get("off_topic", [])}
            for (question, bullet), text in seen.items():
                if question == entry["id"]:
                    (off if bullet in marked else on).setdefault(question, set()).add(text)
    rows = []
    for line in (folder / "bullets.jsonl").read_text(encoding="utf-8").splitlines():
        bullet = json.loads(line)
        earlier = bullet.pop("known_on_topic", None)  # graded in an earlier round (relevance_pack --known)
        if earlier is not None:
            bullet["on_topic"] = bool(earlier)
        elif bullet["text"] in off.get(bullet["id"], set()):
            bullet["on_topic"] = False
        elif bullet["text"] in on.get(bullet["id"], set()):
            bullet["on_topic"] = True
        else:
            continue  # a sentence no reviewer saw
        rows.append(bullet)
    LABELS_PATH.write_text(
        "".join(
            json.dumps({**r, "features": [round(v, 4) for v in r["features"]]}, ensure_ascii=False) + "\n" for r in rows
        ),
        encoding="utf-8",
    )
    answers = len({r["id"] for r in rows})
    print(f"{len(rows)} labelled bullets from {answers} answers -> {LABELS_PATH}", file=sys.stderr)


def fit(x: np.ndarray, y: np.ndarray) -> tuple[LogisticRegression, np.ndarray, np.ndarray]:
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=1.0, max_iter=1000).fit((x - mean) / scale, y)
    return model, mean, scale


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--join", type=Path, help="A scripts/relevance_pack.py folder (its bullets.jsonl).")
    parser.add_argument("--graded", type=Path, help="The pack folder the reviewers graded (default: --join).")
    parser.add_argument("--min-kept", type=float, default=0.95)
    args = parser.parse_args()
    if args.join:
        join(args.join, args.graded)
    rows = [json.loads(line) for line in LABELS_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    if any(len(r["features"]) != len(FEATURES) for r in rows):
        raise SystemExit("the labels' features are from another feature set: re-run scripts/relevance_pack.py")
    x = np.array([r["features"] for r in rows], dtype=float)
    y = np.array([r["on_topic"] for r in rows], dtype=int)
    groups = np.array([r["id"] for r in rows])
    print(f"{len(y)} bullets, {int((1 - y).sum())} off topic ({(1 - y).mean():.1%})")

    # Cross-validated probabilities, folds by question so that one answer's bullets never straddle folds.
    ids = sorted(set(groups))
    rng = np.random.default_rng(0)
    fold_of = {q: int(f) for q, f in zip(ids, rng.integers(0, 5, len(ids)), strict=True)}
    folds = np.array([fold_of[g] for g in groups])
    held = np.zeros(len(y))
    for fold in range(5):
        train, test = folds != fold, folds == fold
        model, mean, scale = fit(x[train], y[train])
        held[test] = model.predict_proba((x[test] - mean) / scale)[:, 1]

    # A bullet is kept when its own probability reaches the bullet threshold and the best bullet under
    # its heading reaches the section threshold (a heading whose best bullet is weak is left out whole).
    sections: dict[tuple[str, str], list[int]] = {}
    for i, r in enumerate(rows):
        sections.setdefault((r["id"], r["section"]), []).append(i)
    section_best = np.zeros(len(y))
    for members in sections.values():
        section_best[members] = held[members].max()
    print("bullet  section  kept  on-topic kept  off-topic share of kept")
    best: tuple[float, float, float] | None = None
    for bullet_threshold in np.arange(0.0, 0.75, 0.05):
        for section_threshold in np.arange(0.0, 0.85, 0.05):
            keep = (held >= bullet_threshold) & (section_best >= section_threshold)
            kept_on = (keep & (y == 1)).sum() / max(1, (y == 1).sum())
            share = (keep & (y == 0)).sum() / max(1, keep.sum())
            if round(section_threshold, 2) in (0.0, 0.4, 0.5, 0.6, 0.7) or kept_on >= args.min_kept:
                figures = f"{keep.mean():5.1%}  {kept_on:13.1%}  {share:9.1%}"
                print(f"{bullet_threshold:6.2f}  {section_threshold:7.2f}  {figures}")
            if kept_on >= args.min_kept and (best is None or share < best[0]):
                best = (share, bullet_threshold, section_threshold)
    _, threshold, section_threshold = best or (0.0, 0.5, 0.0)
    print(f"chosen: bullet threshold {threshold:.2f}, section threshold {section_threshold:.2f}")

    model, mean, scale = fit(x, y)
    for name, weight in sorted(zip(FEATURES, model.coef_[0], strict=True), key=lambda p: -abs(p[1])):
        print(f"  {name:18s} {weight:+.3f}")
    np.savez(
        MODEL_PATH,
        features=np.array(FEATURES),
        weights=model.coef_[0],
        bias=np.array(model.intercept_[0]),
        mean=mean,
        scale=scale,
        threshold=np.array(threshold),
        section_threshold=np.array(section_threshold),
        data_hash=np.array(data_hash()),
    )
    print(f"wrote {MODEL_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
