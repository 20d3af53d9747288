"""Choose the LLM citation-verification thresholds on labelled pairs, and check the current ones.

    .venv/bin/python scripts/calibrate_support.py                 # grid, per-kind table, chosen thresholds
    .venv/bin/python scripts/calibrate_support.py --check 0.05 0.75   # exit 1 if the current settings let
                                                                  # more than 5% of unsupported claims
                                                                  # through or keep under 75% of supported

eval/support/pairs.jsonl holds claims an answer might make while citing one corpus sentence, each
labelled supported (paraphrase, partial) or unsupported (wrong_figure, wrong_body, negation,
unrelated, embellished, advice). Each claim is checked, as the LLM composer checks a sentence,
against the indexed chunk that holds the cited sentence.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.compose.llm import chunk_passage  # noqa: E402
from bot.compose.verify import Passage, Verifier  # noqa: E402
from bot.core import Bot  # noqa: E402
from bot.settings import Settings  # noqa: E402

SUPPORT = Path(__file__).resolve().parent.parent / "eval" / "support"
PAIRS = [SUPPORT / "pairs.jsonl", SUPPORT / "holdout.jsonl"]


def load_pairs(path: Path) -> list[dict[str, Any]]:
    pairs = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip():
            try:
                pairs.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{number}: not JSON ({exc.msg})") from None
    return pairs


def passage_for(bot: Bot, pair: dict[str, Any]) -> Passage:
    """The indexed chunk holding the pair's passage, labelled exactly as the bot labels it for the model."""
    for chunk in bot.index.chunks:
        if chunk.doc_id == pair["doc_id"] and pair["passage"] in chunk.text:
            jurisdiction = bot.index.documents[chunk.doc_id].jurisdiction
            passage: Passage = chunk_passage(bot.index, chunk, 1, jurisdiction)
            return passage
    raise SystemExit(f"{pair['doc_id']}: no indexed chunk holds the passage {pair['passage'][:60]!r}")


def measure(bot: Bot, pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each claim's hard-check verdict (with and without the negation check), similarity and coverage."""
    rows = []
    settings = bot.settings.answer.model_copy(update={"min_llm_support": 0.0, "min_llm_coverage": 0.0})
    for pair in pairs:
        verifier = Verifier({1: passage_for(bot, pair)}, bot.embedder.encode_query, settings)
        with_negation = verifier.check(None, pair["claim"] + " [1]")
        verifier.check_negation = False
        without = verifier.check(None, pair["claim"] + " [1]")
        rows.append(
            {
                **pair,
                "hard_ok": without.ok,
                "negation_ok": with_negation.ok or not with_negation.reason.startswith("negation"),
                "reason": with_negation.reason,
                "support": without.support,
                "coverage": without.coverage,
            }
        )
    return rows


def accepted(row: dict[str, Any], support: float, coverage: float, negation: bool) -> bool:
    return (
        row["hard_ok"]
        and (row["negation_ok"] or not negation)
        and row["support"] >= support
        and row["coverage"] >= coverage
    )


def rates(rows: list[dict[str, Any]], support: float, coverage: float, negation: bool) -> tuple[float, float]:
    """(share of supported claims kept, share of unsupported claims let through)."""
    good = [r for r in rows if r["label"] == "supported"]
    bad = [r for r in rows if r["label"] == "unsupported"]
    kept = sum(accepted(r, support, coverage, negation) for r in good) / len(good)
    leaked = sum(accepted(r, support, coverage, negation) for r in bad) / len(bad)
    return kept, leaked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=Path, nargs="+", default=PAIRS, help="Labelled claim files (JSONL).")
    parser.add_argument("--max-leak", type=float, default=0.05, help="Most unsupported claims let through.")
    parser.add_argument(
        "--check", nargs=2, type=float, metavar=("MAX_LEAK", "MIN_KEPT"), help="Check the current settings only."
    )
    args = parser.parse_args()
    settings = Settings()
    bot = Bot(settings)
    rows = measure(bot, [pair for path in args.pairs for pair in load_pairs(path)])
    current = (settings.answer.min_llm_support, settings.answer.min_llm_coverage)
    kept, leaked = rates(rows, *current, True)
    print(f"{len(rows)} pairs from {', '.join(str(p) for p in args.pairs)}")
    print(
        f"current settings: min_llm_support={current[0]} min_llm_coverage={current[1]}: "
        f"supported kept {kept:.1%}, unsupported let through {leaked:.1%}"
    )
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append(accepted(row, *current, True))
    for kind, results in sorted(by_kind.items()):
        print(f"  {kind:13} accepted {sum(results):3d}/{len(results):3d}")
    reasons = Counter(r["reason"].split(" ")[0] for r in rows if r["label"] == "unsupported" and r["reason"])
    print("  hard checks that caught unsupported claims:", dict(reasons))
    if args.check:
        max_leak, min_kept = args.check
        ok = leaked <= max_leak and kept >= min_kept
        print("OK" if ok else f"FAILED: want leak <= {max_leak:.0%} and kept >= {min_kept:.0%}")
        return 0 if ok else 1

    print("\ngrid over min_llm_support x min_llm_coverage x negation check: the most supported claims kept")
    print("for each limit on unsupported claims let through")
    grid = [
        (*rates(rows, support, coverage, negation), support, coverage, negation)
        for negation in (True, False)
        for support in [round(0.30 + 0.02 * i, 2) for i in range(31)]
        for coverage in [round(0.05 * i, 2) for i in range(19)]
    ]
    for limit in (0.03, 0.05, 0.08, 0.10, 0.12, 0.15):
        fits = [g for g in grid if g[1] <= limit + 1e-9]
        if not fits:
            print(f"  leak <= {limit:.0%}: none")
            continue
        kept, leaked, support, coverage, negation = max(fits, key=lambda g: (g[0], -g[1], g[2], g[3]))
        mark = "  <- chosen" if abs(limit - args.max_leak) < 1e-9 else ""
        print(
            f"  leak <= {limit:.0%}: min_llm_support={support} min_llm_coverage={coverage} negation={negation}: "
            f"kept {kept:.1%}, leaked {leaked:.1%}{mark}"
        )
    print("\nsupport alone (coverage 0, negation on):")
    for support in (0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8):
        kept, leaked = rates(rows, support, 0.0, True)
        print(f"  {support:.2f}: kept {kept:.1%}  leaked {leaked:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
