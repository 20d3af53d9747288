"""Cold start: each command imports and loads only what it needs (the timings live in scripts/bench.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot.settings import Settings

from .conftest import ROOT

HEAVY = ("gradio", "fastapi", "uvicorn", "langchain_core", "chromadb", "torch", "sentence_transformers")


def loaded_after(code: str, env: dict[str, str] | None = None) -> list[str]:
    """The heavy modules a fresh interpreter has imported after running code."""
    probe = f"{code}\nimport sys\nprint('loaded:', *(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()[-1].split()[1:]  # the command's own output comes first


def test_the_ask_path_imports_no_web_framework_nor_langchain_nor_chromadb() -> None:
    # Everything `bot ask` imports before it loads the model (which brings torch and sentence-transformers).
    assert loaded_after("import bot.cli, bot.core, bot.index, bot.retrieval, bot.lexical") == []


def test_sources_loads_no_model(fixture_bot: object, fixture_settings: Settings) -> None:
    env = os.environ | {
        "BOT_INDEX__PATH": str(fixture_settings.index.path),
        "BOT_CORPUS__PATH": str(fixture_settings.corpus.path),
    }
    code = "from bot.cli import cli\ncli(['sources'], standalone_mode=False)"
    assert loaded_after(code, env) == []


def test_a_fully_resumed_eval_loads_no_model(fixture_bot: object, fixture_settings: Settings, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bot.cli import cli

    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        json.dumps({"id": "q1", "question": "Does the FSCS protect crypto?", "expected_kind": "answer"}) + "\n"
    )
    env = os.environ | {
        "BOT_INDEX__PATH": str(fixture_settings.index.path),
        "BOT_CORPUS__PATH": str(fixture_settings.corpus.path),
    }
    command = ["eval", str(questions), "--out", str(tmp_path / "run"), "--no-progress"]
    first = CliRunner(env=env).invoke(cli, command)
    assert first.exit_code == 0, first.output
    code = f"from bot.cli import cli\ncli({command!r}, standalone_mode=False)"
    assert loaded_after(code, env) == []


def test_a_no_change_index_loads_no_model(fixture_bot: object, fixture_settings: Settings) -> None:
    env = os.environ | {
        "BOT_INDEX__PATH": str(fixture_settings.index.path),
        "BOT_CORPUS__PATH": str(fixture_settings.corpus.path),
    }
    code = "from bot.cli import cli\ncli(['index'], standalone_mode=False)"
    loaded = loaded_after(code, env)
    # chromadb opens the store to check that it is sound; the model is never loaded.
    assert "torch" not in loaded and "sentence_transformers" not in loaded


def test_the_onnx_backend_answers_without_torch(fixture_bot: object, fixture_settings: Settings) -> None:
    from bot.embeddings import ensure_onnx, shared_embedder

    ensure_onnx(fixture_settings, shared_embedder())  # exported once, as `bot index` does on this backend
    env = os.environ | {
        "BOT_INDEX__PATH": str(fixture_settings.index.path),
        "BOT_CORPUS__PATH": str(fixture_settings.corpus.path),
        "BOT_EMBEDDING__BACKEND": "onnx",
    }
    code = "from bot.cli import cli\ncli(['ask', 'Is crypto on a failed exchange protected?'], standalone_mode=False)"
    assert loaded_after(code, env) == []
