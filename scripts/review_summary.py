"""Summarise a blind review (docs/review-rubric.md): useful share, off-topic share, misleading count.

.venv/bin/python scripts/review_summary.py eval/review/blind-v4.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> int:
    rows = [json.loads(line) for line in Path(sys.argv[1]).read_text().splitlines() if line.strip()]
    bullets = sum(int(r["bullets"]) for r in rows)
    # A count, or the list of off-topic bullet numbers (the probe reviews and the relevance labels name them).
    off_topic = sum(len(r["off_topic"]) if isinstance(r["off_topic"], list) else int(r["off_topic"]) for r in rows)
    useful = sum(1 for r in rows if r["useful"])
    misleading = sum(1 for r in rows if r["misleading"])
    print(f"answers reviewed: {len(rows)}")
    print(f"useful: {useful}/{len(rows)} = {useful / max(1, len(rows)):.1%}")
    print(f"off-topic bullets: {off_topic}/{bullets} = {off_topic / max(1, bullets):.1%}")
    print(f"bullets per answer: {bullets / max(1, len(rows)):.1f}")
    print(f"misleading answers: {misleading}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
