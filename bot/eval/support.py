"""Calibrate the LLM citation verifier on labelled claims (eval/support/*.jsonl), and check its thresholds.

eval/support/pairs.jsonl (and holdout.jsonl, fresh.jsonl) hold claims an answer might make while citing
one corpus sentence, each labelled supported (paraphrase, partial) or unsupported (wrong_figure,
wrong_body, negation, unrelated, embellished, advice). Each claim is checked, as the LLM composer
checks a sentence, against the indexed chunk that holds the cited sentence. `calibrate` prints the
current settings' figures, per kind, and either checks them against limits or searches the grid.
Run it as `bot eval --support` or `scripts/calibrate_support.py` (docs/llm.md).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.compose.llm import chunk_passage
from bot.compose.verify import Passage, Verifier
from bot.errors import BotError
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.core import Bot

SUPPORT = Path(__file__).resolve().parents[2] / "eval" / "support"  # in a source checkout
PAIRS = [SUPPORT / "pairs.jsonl", SUPPORT / "holdout.jsonl"]


def load_pairs(path: Path) -> list[dict[str, Any]]:
    pairs = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip():
            try:
                pairs.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise BotError(f"{path}:{number}: not JSON ({exc.msg}); fix or remove the line") from None
    return pairs


def passage_for(bot: Bot, pair: dict[str, Any]) -> Passage:
    """The indexed chunk holding the pair's passage, labelled exactly as the bot labels it for the model."""
    for chunk in bot.index.chunks:
        if chunk.doc_id == pair["doc_id"] and pair["passage"] in chunk.text:
            jurisdiction = bot.index.documents[chunk.doc_id].jurisdiction
            passage: Passage = chunk_passage(bot.index, chunk, 1, jurisdiction)
            return passage
    raise BotError(
        f"{pair['doc_id']}: no indexed chunk holds the passage {pair['passage'][:60]!r}: "
        "correct the claim's passage, or run `bot index` if the corpus changed"
    )


def measure(bot: Bot, pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each claim's hard-check verdict (with and without the negation check), similarity and coverage."""
    rows = []
    settings = bot.settings.verify.model_copy(update={"min_support": 0.0, "min_coverage": 0.0})
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


def calibrate(
    pairs: Sequence[Path],
    check: tuple[float, float] | None = None,
    max_leak: float = 0.05,
    settings: Settings | None = None,
    echo: Callable[[str], None] = print,
) -> int:
    """Measure every claim of `pairs`; with `check` (MAX_LEAK, MIN_KEPT) return 1 when the current
    thresholds miss either limit, else print the grid of thresholds. Returns the exit status."""
    from bot.core import Bot

    settings = settings or Settings()
    bot = Bot(settings)
    rows = measure(bot, [pair for path in pairs for pair in load_pairs(path)])
    current = (settings.verify.min_support, settings.verify.min_coverage)
    kept, leaked = rates(rows, *current, True)
    echo(f"{len(rows)} pairs from {', '.join(str(p) for p in pairs)}")
    echo(
        f"current settings: verify.min_support={current[0]} verify.min_coverage={current[1]}: "
        f"supported kept {kept:.1%}, unsupported let through {leaked:.1%}"
    )
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append(accepted(row, *current, True))
    for kind, results in sorted(by_kind.items()):
        echo(f"  {kind:13} accepted {sum(results):3d}/{len(results):3d}")
    reasons = Counter(r["reason"].split(" ")[0] for r in rows if r["label"] == "unsupported" and r["reason"])
    echo(f"  hard checks that caught unsupported claims: {dict(reasons)}")
    if check:
        max_leak, min_kept = check
        ok = leaked <= max_leak and kept >= min_kept
        echo("OK" if ok else f"FAILED: want leak <= {max_leak:.0%} and kept >= {min_kept:.0%}")
        return 0 if ok else 1

    _print_grid(rows, max_leak, echo)
    return 0


def _print_grid(rows: list[dict[str, Any]], max_leak: float, echo: Callable[[str], None]) -> None:
    """The best thresholds for each limit on unsupported claims let through, then support alone."""
    echo("\ngrid over verify.min_support x verify.min_coverage x negation check: the most supported claims kept")
    echo("for each limit on unsupported claims let through")
    grid = [
        (*rates(rows, support, coverage, negation), support, coverage, negation)
        for negation in (True, False)
        for support in [round(0.30 + 0.02 * i, 2) for i in range(31)]
        for coverage in [round(0.05 * i, 2) for i in range(19)]
    ]
    for limit in (0.03, 0.05, 0.08, 0.10, 0.12, 0.15):
        fits = [g for g in grid if g[1] <= limit + 1e-9]
        if not fits:
            echo(f"  leak <= {limit:.0%}: none")
            continue
        kept, leaked, support, coverage, negation = max(fits, key=lambda g: (g[0], -g[1], g[2], g[3]))
        mark = "  <- chosen" if abs(limit - max_leak) < 1e-9 else ""
        echo(
            f"  leak <= {limit:.0%}: verify.min_support={support} verify.min_coverage={coverage} negation={negation}: "
            f"kept {kept:.1%}, leaked {leaked:.1%}{mark}"
        )
    echo("\nsupport alone (coverage 0, negation on):")
    for support in (0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8):
        kept, leaked = rates(rows, support, 0.0, True)
        echo(f"  {support:.2f}: kept {kept:.1%}  leaked {leaked:.1%}")
