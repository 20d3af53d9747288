"""The `bot eval` command: question files in, a run folder out, an exit status for CI gates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from bot.eval.aggregate import check_thresholds, parse_thresholds
from bot.eval.metrics import DEFAULT_K
from bot.eval.questions import Problem, indexed_source_ids
from bot.eval.report import summary_lines
from bot.eval.runner import LazyBot, read_answers, run_eval


@click.command("eval")
@click.argument("questions", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run folder: answers.jsonl, metrics.json, report.html. An existing folder resumes (answers from "
    "another index build are asked again). Required with QUESTIONS; with --holdings, where holdings.json is "
    "written.",
)
@click.option(
    "--holdings",
    "holdings_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Score `bot holding` reports against a holdings file instead of asking questions "
    "(docs/holding.md, 'Evaluating it'): cell accuracy, gap recall, timeline recall.",
)
@click.option(
    "--concurrency",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Questions asked at the same time.",
)
@click.option(
    "--baseline",
    type=click.Path(exists=True, path_type=Path),
    help="An earlier run folder (or its metrics.json) to compare with.",
)
@click.option(
    "--fail-under",
    "fail_under",
    metavar="NAME=X,...",
    help="Exit 1 when a metric misses its threshold, e.g. recall=0.9,kind_accuracy=0.8. "
    "For lower-is-better metrics (must_not_say_hits, latency_*) X is a ceiling.",
)
@click.option(
    "--k",
    "k",
    default=DEFAULT_K,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Evidence documents counted by recall@k.",
)
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Answer as on this date (a question's own as_of field wins). Default: today.",
)
@click.option(
    "--limit",
    type=click.IntRange(0),
    help="Ask at most this many new questions (the rest on a rerun).",
)
@click.option(
    "--split",
    type=click.Choice(["all", "tune", "validation"]),
    default="all",
    show_default=True,
    help="Only the questions of one split of the development set (a stable hash of each id puts "
    "30% in 'validation'): tune on 'tune', check on 'validation'.",
)
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option(
    "--support",
    is_flag=True,
    help="Calibrate the LLM citation verifier instead (docs/llm.md): QUESTIONS are labelled claim files "
    "(default eval/support/pairs.jsonl and holdout.jsonl); prints the current thresholds' figures and "
    "the best thresholds for each leak limit.",
)
@click.option(
    "--check",
    nargs=2,
    type=float,
    metavar="MAX_LEAK MIN_KEPT",
    help="With --support: only check the current thresholds; exit 1 when more than MAX_LEAK of the "
    "unsupported claims get through or under MIN_KEPT of the supported ones are kept.",
)
@click.option(
    "--rescore",
    is_flag=True,
    help="Do not ask anything: rescore answers.jsonl and rewrite the report.",
)
@click.pass_context
def eval_command(
    ctx: click.Context,
    questions: tuple[Path, ...],
    out: Path | None,
    holdings_file: Path | None,
    concurrency: int,
    baseline: Path | None,
    fail_under: str | None,
    k: int,
    as_of: dt.datetime | None,
    limit: int | None,
    split: str,
    no_progress: bool,
    rescore: bool,
    support: bool,
    check: tuple[float, float] | None,
) -> None:
    """Run the bot over question files (JSONL/CSV or folders of them) and score the answers.

    \b
    Examples:
      bot eval eval/questions --out runs/today
      bot eval eval/questions --out runs/ci --fail-under recall=0.8,kind_accuracy=0.95
      bot eval eval/questions --out runs/new --baseline runs/today
      bot eval --holdings eval/holdings/holdings.jsonl --out runs/holdings
      bot eval --support --check 0.12 0.55

    Exit status: 0 when every threshold is met, 1 when one is missed, 2 on a usage or bot error.
    """
    # Long only in its signature and docstring (click passes each option as a parameter); the body
    # dispatches to the support check, the holdings run or run_eval, then prints the outcome.
    if support:
        _eval_support(ctx, questions, check)
        return
    if check:
        raise click.UsageError("--check goes with --support (for question sets, use --fail-under).")
    if holdings_file is not None:
        _eval_holdings(ctx, holdings_file, out)
        return
    if not questions or out is None:
        raise click.UsageError("Give QUESTIONS and --out (or --holdings FILE).")
    from bot.settings import Settings

    thresholds = parse_thresholds(fail_under)
    ask = None
    info: dict[str, Any] = {}
    obj = ctx.find_root().obj or {}
    settings = obj.get("settings") or Settings()
    if not rescore:
        lazy = LazyBot(settings)
        ask, info = lazy, lazy.info
    try:
        metrics, problems, _ = run_eval(
            ask,
            questions,
            out,
            concurrency=concurrency,
            baseline=baseline,
            k=k,
            limit=limit,
            as_of=as_of.date() if as_of else None,
            progress=not no_progress,
            info=info,
            split=split,
            known_sources=indexed_source_ids(settings.index.path),
            warn=lambda message: click.echo(message, err=True),
            build=_current_build(settings),
        )
    except KeyboardInterrupt:
        saved = len(read_answers(out / "answers.jsonl"))
        click.echo(
            f"\nInterrupted: {saved} answers are saved in {out / 'answers.jsonl'}; "
            "run the same command again to resume.",
            err=True,
        )
        ctx.exit(130)
    _print_outcome(ctx, metrics, problems, out, thresholds)


def _current_build(settings: Any) -> str | None:
    """The index build the bot will answer from, so that a resumed folder reuses only its answers; None
    (reuse by question text alone) when it cannot be read before the bot loads."""
    from bot.pointer import current_build

    try:
        return current_build(settings)
    except Exception:  # the bot reports an unreadable index when it loads
        return None


def _print_outcome(
    ctx: click.Context, metrics: dict[str, Any], problems: list[Problem], out: Path, thresholds: dict[str, float]
) -> None:
    """The summary, the warnings, and the exit status of the thresholds."""
    for problem in problems:
        click.echo(f"skipped {problem}", err=True)
    for line in summary_lines(metrics):
        click.echo(line)
    click.echo(f"report: {out / 'report.html'}")
    if len(metrics["run"]["index_builds"]) > 1:
        click.echo(
            f"warning: the answers come from {len(metrics['run']['index_builds'])} index builds "
            "(the corpus changed while resuming); use a new --out for comparable figures.",
            err=True,
        )
    missing = metrics["run"].get("questions_missing")
    if missing:
        click.echo(
            f"{len(missing)} questions not answered yet; run the same command again to resume.",
            err=True,
        )
    missed = check_thresholds(metrics["overall"], thresholds)
    if missed:
        for line in missed:
            click.echo(f"FAIL {line}", err=True)
        ctx.exit(1)
    if thresholds:
        click.echo(f"all {len(thresholds)} thresholds met")


def _eval_holdings(ctx: click.Context, path: Path, out: Path | None) -> None:
    """`bot eval --holdings FILE`: build each holding's report from the corpus and score it."""
    from bot.corpus import load_corpus
    from bot.holding import build_holding
    from bot.holding_eval import load_cases, score_holdings
    from bot.holding_eval import summary_lines as holding_summary
    from bot.settings import Settings

    settings: Settings = (ctx.find_root().obj or {}).get("settings") or Settings()
    documents = {d.id: d for d in load_corpus(settings.corpus.path)}
    scores = score_holdings(
        load_cases(path),
        lambda holding, as_of: build_holding(holding, documents, as_of, statuses=settings.retrieval.statuses),
    )
    for line in holding_summary(scores):
        click.echo(line)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "holdings.json").write_text(scores.model_dump_json(indent=2), encoding="utf-8")
        click.echo(f"scores: {out / 'holdings.json'}")


def _eval_support(ctx: click.Context, files: tuple[Path, ...], check: tuple[float, float] | None) -> None:
    """`bot eval --support [FILES] [--check MAX_LEAK MIN_KEPT]`: the citation verifier on labelled claims."""
    from bot.eval.support import PAIRS, calibrate
    from bot.settings import Settings

    settings: Settings = (ctx.find_root().obj or {}).get("settings") or Settings()
    ctx.exit(calibrate(list(files) or PAIRS, check, settings=settings, echo=click.echo))  # a BotError exits 2
