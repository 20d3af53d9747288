"""The `bot` command line, end to end over the fixture index."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.core import Bot
from bot.settings import Settings

from .conftest import FIXTURE_CORPUS


@pytest.fixture()
def env(fixture_bot: Bot, fixture_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_CORPUS__PATH", str(fixture_settings.corpus.path))
    monkeypatch.setenv("BOT_INDEX__PATH", str(fixture_settings.index.path))


def test_ask_prints_a_cited_answer(env: None) -> None:
    result = CliRunner().invoke(cli, ["ask", "Is my bitcoin on a failed UK exchange covered by the FSCS?"])
    assert result.exit_code == 0, result.output
    assert "**UK rules" in result.output and "[1]" in result.output and "Sources" in result.output


def test_ask_json_is_the_answer_object(env: None) -> None:
    result = CliRunner().invoke(cli, ["ask", "--json", "--jurisdiction", "US", "Does SIPC cover crypto?"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # stderr says what is loading
    assert data["kind"] == "answer"
    assert set(data) >= {"answer", "sections", "citations", "kind", "profile", "timings", "corpus_version"}
    assert all(c["jurisdiction"] == "US" for c in data["citations"].values())


def test_ask_as_of(env: None) -> None:
    result = CliRunner().invoke(cli, ["ask", "--json", "--as-of", "2024-01-01", "What does the GENIUS Act require?"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["as_of"] == "2024-01-01"
    assert "us-genius-act" not in {c["doc_id"] for c in data["citations"].values()}


def test_empty_question_is_a_clear_error(env: None) -> None:
    result = CliRunner().invoke(cli, ["ask", "   "])
    assert result.exit_code == 2
    assert "The question is empty" in result.output


def test_sources_prints_coverage(env: None) -> None:
    result = CliRunner().invoke(cli, ["sources"])
    assert result.exit_code == 0, result.output
    assert "fscs-crypto-not-protected" in result.output
    assert "Coverage by jurisdiction: INTL 1, UK 7, US 5" in result.output
    assert "Coverage by publisher" in result.output and "Coverage by topic" in result.output


def test_corpus_check_names_file_and_line(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    path = corpus / "us" / "sipc-crypto-not-covered.md"
    path.write_text(path.read_text().replace("status: in_force", "status: maybe"))
    result = CliRunner().invoke(cli, ["corpus", "check", str(corpus)])
    assert result.exit_code == 2
    assert "sipc-crypto-not-covered.md:" in result.output and "unknown status 'maybe'" in result.output
    good = CliRunner().invoke(cli, ["corpus", "check", str(FIXTURE_CORPUS)])
    assert good.exit_code == 0 and "13 documents OK" in good.output


def test_corpus_review_reports_what_to_recheck_without_the_model(tmp_path: Path) -> None:
    from .test_startup import loaded_after

    # The fixture corpus keeps the stale 'As of November 2026' claims that issue 15 found in the real one.
    result = CliRunner().invoke(cli, ["corpus", "review", str(FIXTURE_CORPUS), "--as-of", "2027-01-20"])
    assert result.exit_code == 1, result.output
    assert "Corpus review as of 2027-01-20" in result.output
    assert "us-genius-act.md:11: status not_yet_in_force but 'effective' 2027-01-18 has passed" in result.output
    assert "fos-fraud-scams-crypto.md:33: 'As of November 2026' (from 2026-11-01) is later" in result.output
    assert "Documents by age of review, oldest first (13)" in result.output
    assert "Source URLs (13)" in result.output
    data = json.loads(
        CliRunner().invoke(cli, ["corpus", "review", str(FIXTURE_CORPUS), "--as-of", "2026-12-01", "--json"]).stdout
    )
    assert set(data) == {
        "as_of",
        "horizon_days",
        "problems",
        "documents",
        "status_changes",
        "undated_sections",
        "as_of_claims",
        "urls",
    }
    assert [(c["doc_id"], c["date"]) for c in data["status_changes"]] == [("us-genius-act", "2027-01-18")]
    assert {c["path"].split("/")[-1] for c in data["as_of_claims"]} >= {"fos-fraud-scams-crypto.md"}
    code = (
        f"from bot.cli import cli\ncli(['corpus', 'review', {str(FIXTURE_CORPUS)!r}, '--json'], standalone_mode=False)"
    )
    assert loaded_after(code) == []
