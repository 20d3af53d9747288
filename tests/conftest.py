"""Shared fixtures: a real bot (real model, real embedded Chroma) over a small fixture corpus."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bot.core import Bot  # noqa: E402
from bot.settings import Settings  # noqa: E402

from .services import chroma_url, postgres_url, redis_url  # noqa: E402, F401 (fixtures for every test)

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_CORPUS = Path(__file__).resolve().parent / "fixtures" / "corpus"
ARTIFACTS = ROOT / "test-artifacts"


def make_settings(corpus: Path, index_path: Path, **groups: dict[str, object]) -> Settings:
    """Settings for a test: given corpus and index folders, plus group overrides."""
    data: dict[str, dict[str, object]] = {"corpus": {"path": corpus}, "index": {"path": index_path}}
    for group, values in groups.items():
        data.setdefault(group, {}).update(values)
    return Settings(**data)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def fixture_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the fixture corpus (tests may not edit the committed one)."""
    target = tmp_path_factory.mktemp("corpus") / "corpus"
    shutil.copytree(FIXTURE_CORPUS, target)
    return target


@pytest.fixture(scope="session")
def fixture_settings(fixture_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(fixture_corpus, tmp_path_factory.mktemp("index") / "index")


@pytest.fixture(scope="session")
def fixture_bot(fixture_settings: Settings) -> Bot:
    """A real bot over the fixture corpus, built once per test run."""
    return Bot(fixture_settings)


@pytest.fixture(scope="session")
def artifacts() -> Iterator[Path]:
    ARTIFACTS.mkdir(exist_ok=True)
    yield ARTIFACTS


def wait_until_up(process: subprocess.Popen[bytes], url: str, name: str, log: Path, seconds: float = 240) -> None:
    """Wait until GET url answers 200; fail with the process's log if it exits or takes too long."""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            pytest.fail(f"{name} exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{name} was not ready in {seconds:.0f} s:\n{log.read_text()[-4000:]}")
        time.sleep(0.5)
