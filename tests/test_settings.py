"""The LLM and verification settings have their own groups; the old names work for one release, with a warning."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import settings_aliases
from bot.cli import cli
from bot.settings import Settings, with_overrides


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each old name warns once per process: forget which ones already did."""
    monkeypatch.setattr(settings_aliases, "_warned", set())


def test_bot_llm_is_short_for_llm_model(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("BOT_LLM", "openai:gpt-4.1-mini")
    monkeypatch.setenv("BOT_LLM__RETRIES", "3")
    with caplog.at_level(logging.WARNING, logger="bot.settings"):
        settings = Settings()
    assert settings.llm.model == "openai:gpt-4.1-mini" and settings.llm.retries == 3
    assert not caplog.records  # the documented short form is not deprecated
    assert with_overrides(Settings(), {"llm": "ollama:llama3.1"}).llm.model == "ollama:llama3.1"


@pytest.mark.parametrize(
    ("old_env", "value", "new"),
    [
        ("BOT_PROMPTS_DIR", "/srv/prompts", "llm.prompts_dir"),
        ("BOT_ANSWER__LLM_MAX_TOKENS", "300", "llm.max_tokens"),
        ("BOT_ANSWER__LLM_RETRIES", "2", "llm.retries"),
        ("BOT_ANSWER__MIN_LLM_SUPPORT", "0.5", "verify.min_support"),
        ("BOT_ANSWER__MIN_LLM_KEPT_SHARE", "0.1", "verify.min_kept_share"),
    ],
)
def test_old_environment_names_still_work_and_warn(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, old_env: str, value: str, new: str
) -> None:
    monkeypatch.setenv(old_env, value)
    with caplog.at_level(logging.WARNING, logger="bot.settings"):
        settings = Settings()
    group, leaf = new.split(".")
    assert str(getattr(getattr(settings, group), leaf)) == value
    new_env = f"BOT_{group.upper()}__{leaf.upper()}"
    assert any(old_env in r.getMessage() and new_env in r.getMessage() for r in caplog.records)


def test_the_new_name_wins_over_the_old(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_ANSWER__MIN_LLM_SUPPORT", "0.5")
    monkeypatch.setenv("BOT_VERIFY__MIN_SUPPORT", "0.6")
    assert Settings().verify.min_support == 0.6


def test_old_setting_paths_still_work(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.settings"):
        given = Settings(prompts_dir=tmp_path, answer={"llm_temperature": 0.5, "min_llm_sentences": 2})  # type: ignore[call-arg, arg-type]
        overridden = with_overrides(Settings(), {"answer.min_llm_coverage": "0.4", "prompts_dir": str(tmp_path)})
    assert given.llm.prompts_dir == tmp_path and given.llm.temperature == 0.5 and given.verify.min_sentences == 2
    assert overridden.verify.min_coverage == 0.4 and overridden.llm.prompts_dir == tmp_path
    assert "use verify.min_coverage (BOT_VERIFY__MIN_COVERAGE)" in caplog.text


def test_old_and_short_cli_flags(caplog: pytest.LogCaptureFixture) -> None:
    result = CliRunner().invoke(cli, ["--llm", "ollama:llama3.1", "--answer.min_llm_support", "0.7", "settings"])
    assert result.exit_code == 0, result.output
    assert 'llm.model = "ollama:llama3.1"' in result.output and "verify.min_support = 0.7" in result.output
    assert "answer.min_llm_support" not in result.output  # `bot settings` shows only the new names
