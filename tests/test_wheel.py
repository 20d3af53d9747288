"""A regular (non-editable) install works: the wheel carries the prompt templates and the intent model,
and `bot ask` answers from a folder outside the repository with --corpus.path pointing at a corpus."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_CORPUS, ROOT

pytestmark = pytest.mark.slow


def test_the_wheel_installs_and_answers_outside_the_repository(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(ROOT), "-w", str(wheels)],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("bot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"bot/prompt_templates/system.md", "bot/prompt_templates/answer.md"} <= names
    assert {"bot/data/intent_model.npz", "bot/static/widget.js", "bot/templates/report.html"} <= names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # The dependencies come from the test environment (a plain path entry, so its editable `bot` finder
    # is not loaded); `bot` itself only from the wheel.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # --ignore-installed: the test environment's editable `bot` is visible through deps.pth, and pip may
    # otherwise take it as "already satisfied" and install nothing here (seen once in CI).
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--ignore-installed", str(wheel)],
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-2000:]
    assert Path(site, "bot", "__init__.py").exists(), installed.stdout[-2000:]

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": ""}
    imported = subprocess.run(
        [str(python), "-c", "import bot, bot.compose.llm as l; print(bot.__file__); print(l.PROMPTS)"],
        capture_output=True,
        text=True,
        cwd=outside,
        env=env,
    )
    assert imported.returncode == 0, imported.stderr[-3000:]
    where = imported.stdout
    assert str(ROOT) not in where and "site-packages" in where, where
    done = subprocess.run(
        [str(venv / "bin" / "bot"), "--corpus.path", str(FIXTURE_CORPUS), "--index.path", str(tmp_path / "index")]
        + ["ask", "Is my crypto protected by the FSCS if my exchange fails?"],
        capture_output=True,
        text=True,
        cwd=outside,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "[1]" in done.stdout and "FSCS" in done.stdout, done.stdout
