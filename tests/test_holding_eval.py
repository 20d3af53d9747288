"""`bot eval --holdings` and `bot holding`: the holdings file format, the scores and the command lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.holding_eval import HoldingEvalError, load_cases, mentions, normalise_url

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "holdings" / "holdings.jsonl"


@pytest.fixture(autouse=True)
def real_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_CORPUS__PATH", str(ROOT / "corpus"))


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        (
            "https://www.fscs.org.uk/check/investment-protection-checker/",
            "fscs.org.uk/check/investment-protection-checker",
        ),
        ("http://SIPC.org/for-investors/what-sipc-protects?x=1#top", "sipc.org/for-investors/what-sipc-protects"),
        ("https://www.gov.uk/", "gov.uk"),
    ],
)
def test_urls_are_compared_without_scheme_www_slash_query_or_fragment(url: str, normal: str) -> None:
    assert normalise_url(url) == normal


@pytest.mark.parametrize(
    ("terms", "found"),
    [
        ([], True),
        (["fscs"], True),
        (["FSCS", "SIPC"], True),
        (["FSCS", "FDIC"], False),
        (["FDIC | SIPC"], True),
        (["property | capital asset"], False),
    ],
)
def test_mention_terms_all_required_with_alternatives(terms: list[str], found: bool) -> None:
    assert mentions("Neither the FSCS nor SIPC covers it.", terms) is found


def test_eval_holdings_scores_the_fixture(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["eval", "--holdings", str(FIXTURE), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if not line.startswith("  state")]
    assert any(line.startswith("  state right (sources ignored): ") for line in result.output.splitlines())
    assert lines[:7] == [
        "holdings: 4",
        "cell accuracy: 86.7% (13/15)",
        "gap recall: 100.0% (4/4)",
        "timeline recall: 87.5% (7/8)",
        "  f1 complaints/US: none of the expected sources is cited",
        "  f2 timeline 2027-04-01: no event mentioning ['award limit']",
        "  f4 marketing/UK: missing",
    ]
    saved = json.loads((tmp_path / "holdings.json").read_text())
    assert saved["cell_accuracy"] == 0.8667 and saved["gap_recall"] == 1.0 and saved["timeline_recall"] == 0.875


def test_eval_without_questions_or_holdings_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["eval"])
    assert result.exit_code == 2 and "--holdings" in result.output


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not a valid holding line"),
        ('{"id": "x", "as_of": "2026-11-28", "holding": {"residence": "Mars"}}', "not a valid holding line"),
        (
            '{"id": "x", "as_of": "2026-11-28", "holding": {"residence": "UK", "platform": "US", "asset": "crypto"}, '
            '"cells": {"weather": {}}}',
            "unknown concern",
        ),
    ],
)
def test_bad_holdings_line_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text("# comment\n\n" + line + "\n")
    with pytest.raises(HoldingEvalError, match=rf"h\.jsonl:3: .*{message}|h\.jsonl:3: {message}"):
        load_cases(path)


def test_holding_command_prints_the_matrix_and_timeline() -> None:
    args = ["holding", "--residence", "UK", "--platform", "US", "--asset", "usd_stablecoin", "--as-of", "2026-11-28"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "My holding, as of 2026-11-28"
    assert "If the platform fails" in lines and "Timeline (12 months before and 24 months after 2026-11-28)" in lines
    uk_line = "  UK: NOTHING APPLIES. You live in the UK, but the UK compensation scheme does not reach crypto held"
    assert uk_line + " with an overseas platform." in lines


def test_holding_command_json_is_the_report() -> None:
    args = ["holding", "--residence", "us", "--citizenship", "US", "--platform", "UK", "--asset", "crypto"]
    result = CliRunner().invoke(cli, [*args, "--regulated", "--jurisdiction", "US", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["holding"]["platform_regulated"] is True and report["jurisdictions"] == ["US"]
    assert set(report["matrix"]["tax"]) == {"US"} and report["matrix"]["tax"]["US"]["applies"] is True
