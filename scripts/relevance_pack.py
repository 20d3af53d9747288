"""Answer the development set's *tune* split and write, for a reviewer, every bullet the composer picked.

Writes OUT/packet-N.md (questions with numbered bullets, for grading with docs/review-rubric.md's
"off topic" rule) and OUT/bullets.jsonl (each bullet's id, text and features, for
scripts/train_relevance.py). Only the tune split of eval/questions: the validation split and the blind
set stay unseen. Other question files given with --questions (the probes of eval/probes, which were
tuned on already) are taken whole.

A bullet whose question id and sentence were graded before (bot/data/relevance_labels.jsonl, or
--known) keeps that grade: the packets list only the bullets nobody has graded, and say so.

    .venv/bin/python scripts/relevance_pack.py --out /tmp/relevance --parts 3
    .venv/bin/python scripts/relevance_pack.py --out /tmp/relevance --questions eval/questions \
        --questions eval/probes/probe5.jsonl --questions eval/probes/probe6.jsonl --parts 4
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
from bot.eval.questions import Question, load_questions, split_of  # noqa: E402
from bot.render import HEADINGS  # noqa: E402
from bot.settings import Settings  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", action="append", help="Repeatable (default: eval/questions).")
    parser.add_argument("--known", type=Path, default=relevance.LABELS_PATH, help="Grades to keep.")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--parts", type=int, default=3)
    parser.add_argument("--as-of", default="2026-11-24")
    args = parser.parse_args()
    records = []
    development = Path("eval/questions").resolve()
    for name in args.questions or ["eval/questions"]:
        found, problems = load_questions([Path(name)])
        if problems:
            print(f"{name}: {len(problems)} question lines skipped", file=sys.stderr)
        if Path(name).resolve() == development:
            found = [r for r in found if split_of(r.id) == "tune"]
        records.extend(found)
    known: dict[tuple[str, str], bool] = {}
    if args.known and args.known.exists():
        for line in args.known.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                known[(entry["id"], entry["text"])] = bool(entry["on_topic"])
    # Every bullet is recorded (the relevance check itself is off), so that labels cover what it would drop.
    bot = Bot(Settings(answer={"min_on_topic_probability": 0}))
    day = dt.date.fromisoformat(args.as_of)
    args.out.mkdir(parents=True, exist_ok=True)
    answered: list[tuple[Question, list[dict[str, object]]]] = []
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
                grade = known.get((record.id, str(item["text"])))
                line = {"id": record.id, "bullet": number, **item}
                if grade is not None:
                    line["known_on_topic"] = grade
                bullets.write(json.dumps(line) + "\n")
            if any((record.id, str(item["text"])) not in known for item in picked):
                answered.append((record, picked))
    # Parts of about the same number of bullets to grade, answers kept in order.
    to_grade = [sum(1 for item in p if (record.id, str(item["text"])) not in known) for record, p in answered]
    share = sum(to_grade) / args.parts
    parts: list[list[tuple[Question, list[dict[str, object]]]]] = [[] for _ in range(args.parts)]
    running = 0
    for entry, count in zip(answered, to_grade, strict=True):
        parts[min(args.parts - 1, int(running // share))].append(entry)
        running += count
    for part in range(args.parts):
        with (args.out / f"packet-{part + 1}.md").open("w", encoding="utf-8") as packet:
            for record, picked in parts[part]:
                packet.write(f"## {record.id}\n\n")
                for turn in record.history:
                    packet.write(f"Earlier question: {turn}\n\n")
                packet.write(f"Question: {record.question}\n\n")
                section = None
                for number, item in enumerate(picked, start=1):
                    if item["section"] != section:
                        section = item["section"]
                        packet.write(f"{HEADINGS[str(section)]}:\n")
                    graded = (record.id, str(item["text"])) in known
                    mark = "(graded already, for context)" if graded else f"[{number}]"
                    packet.write(f"  {mark} {item['text']}\n")
                packet.write("\n---\n\n")
    fresh = sum(1 for record, p in answered for item in p if (record.id, str(item["text"])) not in known)
    print(f"{len(answered)} answers with {fresh} bullets to grade in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
