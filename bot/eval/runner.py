"""Running an evaluation: ask the questions (resuming from answers.jsonl), score them, write the run folder."""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from bot.eval.aggregate import aggregate, breakdowns, compare
from bot.eval.metrics import DEFAULT_K, QuestionScore, score_question
from bot.eval.questions import Problem, Question, load_questions, split_of, unknown_sources
from bot.eval.report import render_report
from bot.types import Answer, answer_body

# One line of answers.jsonl: "id", "record" (the Question), "answer" (the Answer as JSON) or "error",
# "wall_ms", "computed_at". Read back as written, tolerating lines from older runs.
Entry = dict[str, Any]


def read_answers(path: Path) -> dict[str, Entry]:
    """Entries already in answers.jsonl, last one per id; a torn last line is ignored."""
    entries: dict[str, Entry] = {}
    if not path.exists():
        return entries
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict) and "id" in entry:
                entries[str(entry["id"])] = entry
    return entries


def _parse_answer(entry: Entry) -> Answer | None:
    if entry.get("answer") is None:
        return None
    return Answer.model_validate(entry["answer"])


@dataclass
class RunResult:
    computed: int = 0
    reused: int = 0
    errors: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    entries: dict[str, Entry] = field(default_factory=dict)


def _to_ask(
    questions: Sequence[Question], done: dict[str, Entry], build: str | None = None
) -> tuple[list[Question], int]:
    """The questions left to ask, and how many have an answer already: same id, same text and earlier turns,
    and (when `build` is given) answered from that index build. A folder resumes an interrupted run; an
    answer from another build (the corpus or the index changed since) is asked again, not mixed in."""
    todo, reused = [], 0
    for question in questions:
        entry = done.get(question.id)
        record = entry.get("record", {}) if entry is not None else {}
        answer = entry.get("answer") if entry is not None else None
        if (
            isinstance(answer, dict)
            and record.get("question") == question.question
            and record.get("history", []) == question.model_dump(mode="json")["history"]
            and (build is None or answer.get("index_build") == build)
        ):
            reused += 1
        else:
            todo.append(question)
    return todo, reused


def _end_torn_line(path: Path) -> None:
    """A killed run may leave a torn last line: end it, so that the next answer starts a line."""
    if path.exists() and path.stat().st_size:
        with path.open("rb") as raw:
            raw.seek(-1, 2)
            torn = raw.read(1) != b"\n"
        if torn:
            with path.open("a", encoding="utf-8") as text:
                text.write("\n")


def _ask_one(
    ask: Callable[..., Answer], question: Question, as_of: dt.date | None, path: Path, lock: threading.Lock
) -> Entry:
    """Ask one question and append its entry (the answer, or the error) to answers.jsonl at once."""
    started = time.perf_counter()
    entry: Entry = {
        "id": question.id,
        "record": question.model_dump(mode="json"),
        "answer": None,
        "error": None,
    }
    try:
        answer = ask(
            question.question,
            history=question.history or None,
            jurisdictions=question.jurisdictions,
            as_of=question.day or as_of,
        )
        entry["answer"] = answer.model_dump(mode="json")
    except Exception as exc:  # a failing question is recorded and the run goes on
        entry["error"] = f"{type(exc).__name__}: {exc}"
    entry["wall_ms"] = round((time.perf_counter() - started) * 1000, 2)
    entry["computed_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    line = json.dumps(entry, ensure_ascii=False)
    with lock, path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
    return entry


def run_questions(
    ask: Callable[..., Answer],
    questions: Sequence[Question],
    answers_path: Path,
    concurrency: int = 1,
    limit: int | None = None,
    as_of: dt.date | None = None,
    progress: bool = True,
    build: str | None = None,
) -> RunResult:
    """Ask every question not already answered in answers_path (from index build `build`, when given);
    append each answer as it comes."""
    run = RunResult()
    todo, run.reused = _to_ask(questions, read_answers(answers_path), build)
    if limit is not None:
        todo = todo[:limit]
    answers_path.parent.mkdir(parents=True, exist_ok=True)
    _end_torn_line(answers_path)
    write_lock = threading.Lock()
    if todo and isinstance(ask, LazyBot):
        ask.ready()  # the model loads before the clock starts, so throughput counts answers only
    from tqdm import tqdm

    bar = tqdm(
        total=len(todo),
        file=sys.stderr,
        unit="q",
        desc="eval",
        dynamic_ncols=True,
        disable=not progress or not todo,
        smoothing=0.1,
    )

    def one(question: Question) -> Entry:
        return _ask_one(ask, question, as_of, answers_path, write_lock)

    started = time.perf_counter()
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="eval")
    pending: set[Future[Entry]] = set()
    queue = iter(todo)
    try:
        for question in queue:  # keep at most 2 * concurrency in flight so an interrupt loses little
            pending.add(pool.submit(one, question))
            if len(pending) >= 2 * max(1, concurrency):
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    _count(run, future.result(), bar)
        for future in list(pending):
            _count(run, future.result(), bar)
        pending.clear()
    except KeyboardInterrupt:
        run.interrupted = True
        for future in pending:
            future.cancel()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # running questions finish and are saved
        bar.close()
        run.seconds = time.perf_counter() - started
    run.entries = read_answers(answers_path)
    return run


def _count(run: RunResult, entry: Entry, bar: Any) -> None:
    run.computed += 1
    if entry.get("error"):
        run.errors += 1
        bar.write(f"question {entry['id']}: {entry['error']}", file=sys.stderr)
    bar.update(1)


# ---------------------------------------------------------------------------------------------
# Evaluation of a run folder


def evaluate(
    questions: Sequence[Question],
    entries: dict[str, Entry],
    k: int = DEFAULT_K,
    wall_seconds: float | None = None,
    computed: int | None = None,
) -> tuple[dict[str, Any], list[QuestionScore]]:
    """Score every question that has an entry; returns (metrics, per-question scores)."""
    results = []
    for question in questions:
        entry = entries.get(question.id)
        if entry is None:
            continue
        answer = _parse_answer(entry)
        result = score_question(question, answer, entry.get("error"), k=k)
        result.question = question.question
        result.source = question.source
        if answer is not None:
            result.answer_excerpt = answer_body(answer).strip()[:1500]
        results.append(result)
    overall = aggregate(results, wall_seconds, computed)
    return {"overall": overall, **breakdowns(results)}, results


def _run_record(
    inputs: Sequence[Path | str],
    questions: list[Question],
    results: list[QuestionScore],
    run: RunResult,
    concurrency: int,
    split: str,
    k: int,
    as_of: dt.date | None,
    problems: list[Problem],
    unknown: list[Any],
) -> dict[str, Any]:
    """What metrics.json says about the run itself: inputs, counts, settings, skipped lines, builds."""
    answered = {r.id for r in results}
    return {
        "inputs": [str(p) for p in inputs],
        "questions_loaded": len(questions),
        "questions_scored": len(results),
        "questions_missing": [q.id for q in questions if q.id not in answered],
        "computed_this_run": run.computed,
        "reused": run.reused,
        "errors_this_run": run.errors,
        "seconds_this_run": round(run.seconds, 3),
        "concurrency": concurrency,
        "split": split,
        "k": k,
        "as_of": (as_of or dt.date.today()).isoformat(),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "skipped_lines": [str(p) for p in problems],
        "unknown_sources": [str(p) for p in unknown],
        "index_builds": sorted(
            {
                str(e["answer"].get("index_build"))
                for e in run.entries.values()
                if e.get("answer") and e["id"] in answered
            }
        ),
    }


def run_eval(
    ask: Callable[..., Answer] | None,
    inputs: Sequence[Path | str],
    out: Path,
    concurrency: int = 1,
    baseline: Path | None = None,
    k: int = DEFAULT_K,
    limit: int | None = None,
    as_of: dt.date | None = None,
    progress: bool = True,
    info: dict[str, Any] | None = None,
    split: str = "all",
    known_sources: set[str] | None = None,
    warn: Callable[[str], None] | None = None,
    build: str | None = None,
) -> tuple[dict[str, Any], list[Problem], RunResult]:
    """Load, run (resuming), score and report; returns (metrics, problems, run).

    With `known_sources` (the index's document ids), expected_sources outside it are reported
    through `warn` before any question is asked."""
    questions, problems = load_questions(inputs)
    if split != "all":
        questions = [q for q in questions if split_of(q.id) == split]
    unknown = unknown_sources(questions, known_sources) if known_sources is not None else []
    for problem in unknown:
        if warn is not None:
            warn(f"warning: {problem}")
    out.mkdir(parents=True, exist_ok=True)
    answers_path = out / "answers.jsonl"
    if ask is None:  # score an existing run only
        run = RunResult(entries=read_answers(answers_path))
    else:
        run = run_questions(ask, questions, answers_path, concurrency, limit, as_of, progress, build)
    metrics, results = evaluate(questions, run.entries, k=k, wall_seconds=run.seconds, computed=run.computed)
    metrics["run"] = _run_record(inputs, questions, results, run, concurrency, split, k, as_of, problems, unknown)
    metrics["run"].update(info or {})
    if not metrics["run"]["questions_missing"]:
        del metrics["run"]["questions_missing"]
    metrics["questions"] = {
        r.id: {"pass": not r.reasons, "reasons": r.reasons, "category": r.category} for r in results
    }
    changes = _compare_with(metrics, baseline) if baseline is not None else None
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str) + "\n", encoding="utf-8")
    report = render_report(metrics, results, metrics["run"], changes, problems)
    (out / "report.html").write_text(report, encoding="utf-8")
    return metrics, problems, run


def _compare_with(metrics: dict[str, Any], baseline: Path) -> dict[str, Any]:
    """Compare with a baseline run (its folder or metrics.json); the summary goes into metrics["baseline"]."""
    base_file = baseline / "metrics.json" if baseline.is_dir() else baseline
    changes = compare(metrics, json.loads(base_file.read_text(encoding="utf-8")))
    changes["baseline"] = str(baseline)
    metrics["baseline"] = {k2: v for k2, v in changes.items() if k2 != "metrics"} | {
        "metrics": {c["name"]: {"old": c["old"], "new": c["new"], "status": c["status"]} for c in changes["metrics"]}
    }
    return changes


class LazyBot:
    """Bot.ask for `bot eval`, loading the model and the index only when a question is left to ask (a fully
    resumed run asks none); `info` records the build that answered."""

    def __init__(self, settings: Any) -> None:
        from bot.index import current_manifest

        manifest = current_manifest(settings) or {}
        self.settings = settings
        self.info: dict[str, Any] = {
            "corpus_version": manifest.get("corpus_version"),
            "index_build": manifest.get("build_id"),
            "composer": settings.llm.model,
            "embedding_model": settings.embedding.model,
        }
        self._bot: Any = None
        self._lock = threading.Lock()

    def ready(self) -> None:
        """Load the bot now (run_questions calls this before its clock starts)."""
        with self._lock:
            if self._bot is None:
                from bot.core import Bot

                self._bot = Bot(self.settings, progress=lambda message: click.echo(message, err=True))
                self.info.update(corpus_version=self._bot.index.corpus_version, index_build=self._bot.index.build_id)

    def __call__(self, question: str, **options: Any) -> Answer:
        self.ready()
        answer: Answer = self._bot.ask(question, **options)
        return answer
