"""Answer the development set's *tune* split and write, for a reviewer, every bullet the composer picked.

Writes OUT/packet-N.md (questions with numbered bullets, for grading with docs/review-rubric.md's
"off topic" rule) and OUT/bullets.jsonl (each bullet's id, text and features, for
scripts/train_relevance.py). Only the tune split: the validation split and the blind set stay unseen.

    .venv/bin/python scripts/relevance_pack.py --out /tmp/relevance --parts 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.compose import relevance  # noqa: E402
from bot.core import Bot  # noqa: E402
from bot.eval.questions import load_questions, split_of  # noqa: E402
from bot.render import HEADINGS  # noqa: E402
from bot.settings import Settings  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", default="eval/questions")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--parts", type=int, default=3)
    parser.add_argument("--as-of", default="2026-11-24")
    args = parser.parse_args()
    records, problems = load_questions([Path(args.questions)])
    if problems:
        print(f"{len(problems)} question lines skipped", file=sys.stderr)
    records = [r for r in records if split_of(r.id) == "tune"]
    # Every bullet is recorded (the relevance check itself is off), so that labels cover what it would drop.
    bot = Bot(Settings(answer={"min_on_topic_probability": 0}))
    day = dt.date.fromisoformat(args.as_of)
    args.out.mkdir(parents=True, exist_ok=True)
    answered = []
    with (args.out / "bullets.jsonl").open("w", encoding="utf-8") as bullets:
        for record in records:
            picked: list[dict[str, object]] = []
            token = relevance.RECORD.set(picked)
            try:
                answer = bot.ask(
                    record.question,
                    history=record.history or None,
                    jurisdictions=record.jurisdictions,
                    as_of=day,
                )
            finally:
                relevance.RECORD.reset(token)
            if answer.kind != "answer" or not picked:
                continue
            for number, item in enumerate(picked, start=1):
                bullets.write(json.dumps({"id": record.id, "bullet": number, **item}) + "\n")
            answered.append((record, picked))
    size = -(-len(answered) // args.parts)
    for part in range(args.parts):
        with (args.out / f"packet-{part + 1}.md").open("w", encoding="utf-8") as packet:
            for record, picked in answered[part * size : (part + 1) * size]:
                packet.write(f"## {record.id}\n\n")
                for turn in record.history:
                    packet.write(f"Earlier question: {turn}\n\n")
                packet.write(f"Question: {record.question}\n\n")
                section = None
                for number, item in enumerate(picked, start=1):
                    if item["section"] != section:
                        section = item["section"]
                        packet.write(f"{HEADINGS[str(section)]}:\n")
                    packet.write(f"  [{number}] {item['text']}\n")
                packet.write("\n---\n\n")
    print(f"{len(answered)} answers, {sum(len(p) for _, p in answered)} bullets in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
