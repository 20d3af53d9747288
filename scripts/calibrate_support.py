"""Choose the LLM citation-verification thresholds on labelled pairs, and check the current ones.

    .venv/bin/python scripts/calibrate_support.py                 # grid, per-kind table, chosen thresholds
    .venv/bin/python scripts/calibrate_support.py --check 0.05 0.75   # exit 1 if the current settings let
                                                                  # more than 5% of unsupported claims
                                                                  # through or keep under 75% of supported

The same as `bot eval --support` (bot/eval/support.py, where the measuring is): eval/support/pairs.jsonl
holds claims an answer might make while citing one corpus sentence, each labelled supported
(paraphrase, partial) or unsupported (wrong_figure, wrong_body, negation, unrelated, embellished,
advice). Each claim is checked, as the LLM composer checks a sentence, against the indexed chunk that
holds the cited sentence.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.errors import BotError  # noqa: E402
from bot.eval.support import PAIRS, calibrate  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=Path, nargs="+", default=PAIRS, help="Labelled claim files (JSONL).")
    parser.add_argument("--max-leak", type=float, default=0.05, help="Most unsupported claims let through.")
    parser.add_argument(
        "--check", nargs=2, type=float, metavar=("MAX_LEAK", "MIN_KEPT"), help="Check the current settings only."
    )
    args = parser.parse_args()
    try:
        return calibrate(args.pairs, tuple(args.check) if args.check else None, args.max_leak)
    except BotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
