"""Benchmark: index build time and warm answer latency by stage (p50/p95), memory.

.venv/bin/python scripts/bench.py [--questions eval/questions] [--limit 200] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core import Bot  # noqa: E402
from bot.embeddings import shared_embedder  # noqa: E402
from bot.index import build_index  # noqa: E402
from bot.settings import Settings  # noqa: E402


def questions_from(path: Path, limit: int) -> list[str]:
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    found: list[str] = []
    for file in files:
        for line in file.read_text().splitlines():
            try:
                found.append(json.loads(line)["question"])
            except (ValueError, KeyError, TypeError):
                continue
    return found[:limit]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=Path, default=Path("eval/questions"))
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    started = time.perf_counter()
    embedder = shared_embedder()
    print(f"model load: {time.perf_counter() - started:.2f} s")
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(index={"path": Path(folder) / "index"})  # type: ignore[arg-type]
        report = build_index(settings, embedder)
        print(f"index build (cold, {report.documents} documents, {report.chunks} chunks): {report.seconds:.2f} s")
        rebuild = build_index(settings, embedder)
        print(f"index check (unchanged corpus): {rebuild.seconds:.2f} s")
        bot = Bot(settings, embedder)
        questions = questions_from(args.questions, args.limit)
        for question in questions:  # warm-up: caches, lazy imports
            bot.ask(question)
        stages: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            for question in questions:
                embedder._cache.clear()  # measure the real query embedding, not the cache
                answer = bot.ask(question)
                for stage, ms in answer.timings.items():
                    stages.setdefault(stage, []).append(ms)
        print(f"warm answers: {len(questions)} questions x {args.repeat} (extractive composer)")
        print(f"{'stage':10} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for stage in ("analyse", "embed", "dense", "bm25", "retrieve", "compose", "total"):
            values = stages.get(stage, [0.0])
            print(f"{stage:10} {statistics.median(values):8.2f} {percentile(values, 0.95):8.2f} {max(values):8.2f}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS: {peak:.0f} MB")


if __name__ == "__main__":
    main()
