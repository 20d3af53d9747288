"""Docs kept honest: every CLI command is in the README, every setting in docs/settings.md (both settings
tables as scripts/settings_table.py generates them), every link resolves, and docs/evaluation.md defines
exactly the metrics `bot eval` reports."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.eval.metrics import ALIASES, METRICS
from bot.settings import env_name, iter_fields

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EVALUATION = (ROOT / "docs" / "evaluation.md").read_text()
SETTINGS_PAGE = (ROOT / "docs" / "settings.md").read_text()


def _settings_table_script() -> object:
    spec = importlib.util.spec_from_file_location("settings_table", ROOT / "scripts" / "settings_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", [name for name, _, _ in iter_fields()])
def test_every_setting_is_documented(name: str) -> None:
    assert f"`{name}`" in SETTINGS_PAGE
    assert f"`{env_name(name)}`" in SETTINGS_PAGE


def test_the_settings_tables_are_up_to_date() -> None:
    script: Any = _settings_table_script()
    fix = "run `.venv/bin/python scripts/settings_table.py`"
    assert script.table() in SETTINGS_PAGE, f"docs/settings.md's table is out of date: {fix}"
    assert script.table(script.COMMON) in README, f"README.md's settings table is out of date: {fix}"
    assert all(name in {n for n, _, _ in iter_fields()} for name in script.COMMON)


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


def _prose(text: str) -> str:
    """The text outside fenced code blocks."""
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors for the headings of a Markdown page."""
    headings = re.findall(r"^#+ (.+)$", _prose(page.read_text()), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_link_resolves(page: Path) -> None:
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", _prose(page.read_text())):
        if re.match(r"[a-z]+:", target):  # http(s), mailto: not checked offline
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no heading with that anchor in {linked.name}")
    assert not broken, f"{page.relative_to(ROOT)}: broken links: {broken}"


def test_the_readme_links_every_page_of_docs() -> None:
    for page in PAGES[1:]:
        if page.name != "review-rubric.md":  # linked from docs/evaluation.md, where the blind review is
            assert f"](docs/{page.name})" in README, f"README.md does not link docs/{page.name}"


def test_the_metric_definitions_name_every_reported_metric() -> None:
    section = EVALUATION.split("## Metric definitions", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| Metric")]
    defined = {name for row in rows for name in re.findall(r"`(\w+)`", row.split("|")[1])}
    assert defined == set(METRICS), (
        f"docs/evaluation.md defines {sorted(defined - set(METRICS))} that bot eval does not report, "
        f"and misses {sorted(set(METRICS) - defined)} (bot/eval/metrics.py: METRICS)"
    )


def test_the_documented_short_names_are_the_accepted_ones() -> None:
    documented = dict(re.findall(r"`(\w+)` =\s+`(\w+)`", EVALUATION))
    assert documented, "docs/evaluation.md lists no short names"
    assert all(ALIASES.get(short) == name for short, name in documented.items()), documented
