"""The self-contained HTML report of a run (bot/templates/report.html) and the terminal summary."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.eval.aggregate import BREAKDOWN_METRICS
from bot.eval.metrics import METRICS, QuestionScore
from bot.eval.questions import Problem

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _fmt(value: Any, fmt: str) -> str:
    if value is None:
        return "n/a"
    if fmt == "ratio":
        return f"{value * 100:.1f}%"
    if fmt == "ms":
        return f"{value:,.0f} ms"
    if fmt == "qps":
        return f"{value:.2f} q/s"
    return f"{value:g}"


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def bar_chart(title: str, bars: list[tuple[str, float | None, str]], fmt: str, scale: float | None = None) -> str:
    """A horizontal inline-SVG bar chart; bars are (label, value, css class)."""
    width, label_w, row_h, top = 460, 150, 24, 8
    plot_w = width - label_w - 80
    values = [v for _, v, _ in bars if v is not None]
    top_value = scale if scale is not None else (max(values) if values and max(values) > 0 else 1.0)
    height = top + row_h * len(bars) + 6
    parts = [
        f'<svg class="chart" role="img" aria-label="{_esc(title)}" '
        f'width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg"><title>{_esc(title)}</title>'
    ]
    for i, (label, value, css) in enumerate(bars):
        y = top + i * row_h
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" class="lbl">{_esc(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{plot_w}" height="16" class="track"/>')
        if value is not None:
            w = max(1.0, plot_w * min(1.0, value / top_value)) if top_value else 1.0
            parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="16" class="bar {css}"/>')
        parts.append(f'<text x="{label_w + plot_w + 6}" y="{y + 15}" class="val">{_esc(_fmt(value, fmt))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _charts(metrics: dict[str, Any], changes: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One chart per ratio metric (all questions, the baseline, each jurisdiction), then latency, hits, throughput."""
    charts = [
        _ratio_chart(name, label, higher, metrics, changes)
        for name, (label, higher, fmt) in METRICS.items()
        if fmt == "ratio"
    ]
    return charts + _run_charts(metrics["overall"])


def _ratio_chart(
    name: str, label: str, higher: bool, metrics: dict[str, Any], changes: dict[str, Any] | None
) -> dict[str, Any]:
    """A ratio metric: all questions, the baseline run if any, and each jurisdiction for the breakdown metrics."""
    overall = metrics["overall"]
    bars: list[tuple[str, float | None, str]] = [("all questions", overall.get(name), "all")]
    if changes is not None:
        old = next((c["old"] for c in changes["metrics"] if c["name"] == name), None)
        bars.append(("baseline", old, "base"))
    if name in BREAKDOWN_METRICS:
        groups = [j for j in ("UK", "US", "INTL", "UK+US") if j in metrics["jurisdiction"]]
        bars += [(g, metrics["jurisdiction"][g].get(name), "grp") for g in groups]
    return {
        "name": name,
        "label": label,
        "value": _fmt(overall.get(name), "ratio"),
        "svg": bar_chart(label, bars, "ratio", scale=1.0),
        "higher": higher,
    }


def _run_charts(overall: dict[str, Any]) -> list[dict[str, Any]]:
    """Latency, must_not_say hits and throughput of the whole run."""
    latency = [
        ("p50", overall.get("latency_p50_ms"), "all"),
        ("p95", overall.get("latency_p95_ms"), "all"),
        ("max", overall.get("latency_max_ms"), "all"),
    ]
    hits = overall.get("must_not_say_hits") or 0
    hit_bars: list[tuple[str, float | None, str]] = [("hits", float(hits), "bad" if hits else "all")]
    throughput = overall.get("throughput_qps")
    return [
        {
            "name": "latency",
            "label": "Latency per question",
            "higher": False,
            "value": _fmt(overall.get("latency_p50_ms"), "ms") + " p50",
            "svg": bar_chart("Latency per question", latency, "ms"),
        },
        {
            "name": "must_not_say_hits",
            "label": "must_not_say hits",
            "higher": False,
            "value": str(hits),
            "svg": bar_chart("must_not_say hits", hit_bars, "count", scale=max(1.0, float(hits))),
        },
        {
            "name": "throughput_qps",
            "label": "Throughput",
            "higher": True,
            "value": _fmt(throughput, "qps"),
            "svg": bar_chart("Throughput", [("questions/s", throughput, "all")], "qps"),
        },
    ]


def render_report(
    metrics: dict[str, Any],
    results: Sequence[QuestionScore],
    info: dict[str, Any],
    changes: dict[str, Any] | None,
    problems: Sequence[Problem],
) -> str:
    """The self-contained HTML report (no scripts, no external resources)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    overall = metrics["overall"]
    charts = _charts(metrics, changes)
    rows = [
        {
            "name": name,
            "label": label,
            "value": _fmt(overall.get(name), fmt),
            "direction": "higher is better" if higher else "lower is better",
        }
        for name, (label, higher, fmt) in METRICS.items()
    ]
    failing = [r for r in results if r.reasons]
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
    )
    env.filters["pct"] = lambda v: _fmt(v, "ratio")
    env.filters["signed"] = lambda c: (
        ("+" if c["delta"] >= 0 else "")
        + (f"{c['delta'] * 100:.1f} pts" if c["format"] == "ratio" else _fmt(c["delta"], c["format"]))
    )
    env.filters["fmt"] = lambda c, key: _fmt(c[key], c["format"])
    template = env.get_template("report.html")
    return template.render(
        info=info,
        rows=rows,
        charts=charts,
        overall=overall,
        breakdown_metrics=BREAKDOWN_METRICS,
        metric_labels={n: METRICS[n][0] for n in BREAKDOWN_METRICS},
        categories=metrics["category"],
        jurisdictions=metrics["jurisdiction"],
        failing=failing,
        results=results,
        changes=changes,
        problems=[str(p) for p in problems],
    )


def summary_lines(metrics: dict[str, Any]) -> list[str]:
    """The terminal summary: counts, then every metric."""
    overall = metrics["overall"]
    run = metrics["run"]
    skipped = len(run.get("skipped_lines", []))
    lines = [
        f"{overall['questions']} questions scored "
        f"({run['computed_this_run']} computed now, "
        f"{run['reused']} reused, {overall['errors']} errors, "
        f"{skipped} input line{'' if skipped == 1 else 's'} skipped)"
    ]
    if run.get("unknown_sources"):
        lines.append(f"{len(run['unknown_sources'])} questions expect sources that are not in the index (see above)")
    for name, (label, _, fmt) in METRICS.items():
        lines.append(f"  {name:32} {_fmt(overall.get(name), fmt):>12}   {label}")
    return lines
