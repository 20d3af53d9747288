"""Write a blind reviewer's packet from a `bot eval` run: each question (with its conversation) and the
answer exactly as shown, for grading with docs/review-rubric.md.

    .venv/bin/python scripts/review_pack.py runs/blind-v4 > /tmp/review/packet.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> int:
    run = Path(sys.argv[1])
    for line in (run / "answers.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        answer = entry.get("answer") or {}
        print(f"## {entry['id']}\n")
        record = entry.get("record") or {}
        for turn in record.get("history") or []:
            print(f"Earlier question: {turn}\n")
        print(f"Question: {record.get('question') or answer.get('question')}\n")
        print(answer.get("answer") or f"(error: {entry.get('error')})")
        print("\n---\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
