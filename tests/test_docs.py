"""Docs kept honest: every setting and every CLI command is in the README."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.settings import env_name, iter_fields

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.mark.parametrize("name", [name for name, _, _ in iter_fields()])
def test_every_setting_is_documented(name: str) -> None:
    assert f"`{name}`" in README
    assert f"`{env_name(name)}`" in README


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_is_in_the_readme(command: str) -> None:
    assert f"bot {command}" in README


def test_every_setting_has_a_description() -> None:
    assert all(description for _, _, description in iter_fields())


def test_readme_first_screen_gives_the_two_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:20])
    assert "make run" in first_screen and "make test" in first_screen


def test_ci_runs_the_readme_test_command() -> None:
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "make test" in ci.split("\n", 3)[-1]


def test_settings_command_prints_every_setting() -> None:
    result = CliRunner().invoke(cli, ["settings"])
    assert result.exit_code == 0
    for name, _, _ in iter_fields():
        assert f"{name} = " in result.output


def test_help_shows_examples() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "bot ask" in result.output and "Examples" in result.output


def test_unknown_setting_override_is_a_clear_error() -> None:
    result = CliRunner().invoke(cli, ["--set", "retrieval.nope=1", "settings"])
    assert result.exit_code != 0
    assert "Unknown setting 'retrieval.nope'" in result.output


def test_every_setting_is_a_cli_flag() -> None:
    result = CliRunner().invoke(
        cli,
        ["--retrieval.quota", "9", "--set", "answer.next_steps=1", "--retrieval.statuses", '["in_force"]', "settings"],
    )
    assert result.exit_code == 0, result.output
    assert "retrieval.quota = 9" in result.output
    assert "answer.next_steps = 1" in result.output
    assert 'retrieval.statuses = ["in_force"]' in result.output
    help_text = CliRunner().invoke(cli, ["--help-all"]).output
    for name, _, _ in iter_fields():
        assert f"--{name}" in help_text


def test_help_lists_the_commands_first_and_fits_a_screen() -> None:
    help_text = CliRunner().invoke(cli, ["--help"]).output
    assert help_text.index("Commands:") < help_text.index("Options:")
    assert "--retrieval.statuses" not in help_text and "--server.port" not in help_text
    assert "--help-all" in help_text and "bot settings" in help_text
    assert len(help_text.splitlines()) < 50
