"""Index builds: incremental by content hash, atomic, and checked against model and corpus."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.core import Bot
from bot.embeddings import shared_embedder
from bot.errors import CorpusError, IndexMismatchError, IndexMissingError
from bot.index import Index, build_index, read_current, release_embedded, up_to_date
from bot.settings import Settings

from .conftest import FIXTURE_CORPUS, ROOT, make_settings

QUESTION = "Is crypto on a failed exchange protected by the FSCS?"


@pytest.fixture()
def workspace(tmp_path: Path) -> Settings:
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    return make_settings(corpus, tmp_path / "index")


def edit(settings: Settings, name: str, old: str, new: str) -> Path:
    path = next(settings.corpus.path.rglob(f"{name}.md"))
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


def test_rebuild_embeds_only_changed_documents(workspace: Settings) -> None:
    embedder = shared_embedder()
    first = build_index(workspace, embedder)
    assert first.embedded_chunks == first.chunks and not first.unchanged
    again = build_index(workspace, embedder)
    assert again.unchanged and again.build_id == first.build_id

    edit(
        workspace,
        "fscs-crypto-not-protected",
        "## ",
        "## Added note (test locator)\n\nThe FSCS test note is here.\n\n## ",
    )
    second = build_index(workspace, embedder)
    fscs_chunks = [c for c in Index(workspace, embedder).chunks if c.doc_id == "fscs-crypto-not-protected"]
    assert second.embedded_chunks == len(fscs_chunks)
    assert second.reused_chunks == second.chunks - len(fscs_chunks)
    assert read_current(workspace.index.path) == second.build_id


def test_reused_vectors_equal_fresh_ones(workspace: Settings) -> None:
    embedder = shared_embedder()
    build_index(workspace, embedder)
    edit(workspace, "irs-digital-assets-faq", "## ", "## Extra (FAQ 0)\n\nThe IRS test note is here.\n\n## ")
    build_index(workspace, embedder)
    index = Index(workspace, embedder)
    row = next(i for i, c in enumerate(index.chunks) if c.doc_id == "fscs-crypto-not-protected")
    fresh = embedder.encode([index.chunks[row].embed_text])[0]
    assert float(fresh @ index.chunk_vectors[row]) > 0.999


def test_a_malformed_file_fails_the_build_and_the_old_index_keeps_serving(workspace: Settings) -> None:
    embedder = shared_embedder()
    first = build_index(workspace, embedder)
    path = edit(workspace, "sipc-crypto-not-covered", "jurisdiction: US", "jurisdiction: Mars")
    with pytest.raises(CorpusError) as raised:
        build_index(workspace, embedder)
    assert f"{path.parent.name}/{path.name}:4: unknown jurisdiction 'Mars'" in str(raised.value)
    assert read_current(workspace.index.path) == first.build_id
    assert not list((workspace.index.path / "builds").glob("*.partial"))
    bot = Bot(workspace, embedder)  # on_stale=rebuild fails too, so it serves the previous build
    assert bot.stale_reason and "unknown jurisdiction" in bot.stale_reason
    assert bot.index.build_id == first.build_id
    assert bot.ask(QUESTION).kind == "answer"


def test_an_interrupted_reindex_leaves_the_old_index_usable(workspace: Settings) -> None:
    embedder = shared_embedder()
    first = build_index(workspace, embedder)
    for path in workspace.corpus.path.rglob("*.md"):  # change every document: a long re-embed
        path.write_text(path.read_text().replace("## ", "## Preface (test)\n\nThe test preface is here.\n\n## ", 1))
    env = {**os.environ, "BOT_CORPUS__PATH": str(workspace.corpus.path), "BOT_INDEX__PATH": str(workspace.index.path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "index"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list((workspace.index.path / "builds").glob("*.partial")):
        assert process.poll() is None, "bot index ended before it could be interrupted"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert read_current(workspace.index.path) == first.build_id
    stale = Settings(**{**workspace.model_dump(), "index": {**workspace.index.model_dump(), "on_stale": "warn"}})
    bot = Bot(stale, embedder)
    assert bot.index.build_id == first.build_id
    assert bot.stale_reason
    answer = bot.ask(QUESTION)
    assert answer.kind == "answer" and answer.corpus_version == first.corpus_version
    # The next build succeeds and switches over.
    report = bot.reindex()
    assert bot.index.build_id == report.build_id != first.build_id


def test_corpus_change_is_detected_not_silently_used(workspace: Settings) -> None:
    embedder = shared_embedder()
    build_index(workspace, embedder)
    edit(workspace, "fdic-deposit-insurance-crypto", "## ", "## New (test)\n\nThe FDIC test note is here.\n\n## ")
    strict = Settings(**{**workspace.model_dump(), "index": {**workspace.index.model_dump(), "on_stale": "error"}})
    with pytest.raises(IndexMismatchError, match="bot index"):
        Bot(strict, embedder)
    rebuilt = Bot(workspace, embedder)  # default: rebuild incrementally
    assert rebuilt.stale_reason is None
    assert any("FDIC test note" in c.text for c in rebuilt.index.chunks)


def test_model_mismatch_is_detected(workspace: Settings) -> None:
    embedder = shared_embedder()
    report = build_index(workspace, embedder)
    manifest_path = workspace.index.path / "builds" / report.build_id / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["model_fingerprint"] = "another-model"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="embedding model"):
        Index(workspace, embedder)


def test_missing_index_names_the_fix(tmp_path: Path) -> None:
    settings = make_settings(FIXTURE_CORPUS, tmp_path / "none")
    with pytest.raises(IndexMissingError, match="bot index"):
        Index(settings, shared_embedder())


def _open_files_under(folder: Path) -> list[str]:
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(folder)):
            found.append(target)
    return found


def test_a_running_bot_follows_new_builds_and_old_ones_wait_out_the_grace(workspace: Settings) -> None:
    """Issue 13: `bot index` twice left running servers on a deleted build; now they switch, the old
    build is kept until the grace period has passed, and the embedded store's files are released."""
    embedder = shared_embedder()
    settings = workspace.model_copy(
        update={"index": workspace.index.model_copy(update={"keep_builds": 1, "prune_grace_seconds": 3600})}
    )
    first = build_index(settings, embedder)
    bot = Bot(settings, embedder)
    assert bot.ask(QUESTION).kind == "answer"
    assert not bot.refresh()  # nothing new

    edit(settings, "fscs-crypto-not-protected", "## ", "## Added note (test locator)\n\nThe FSCS note one.\n\n## ")
    second = build_index(settings, embedder)
    assert (settings.index.path / "builds" / first.build_id).is_dir()  # retired, within the grace period
    assert bot.index.build_id == first.build_id
    assert bot.refresh() and bot.index.build_id == second.build_id
    assert bot.ask(QUESTION).index_build == second.build_id
    assert not _open_files_under(settings.index.path / "builds" / first.build_id)

    edit(settings, "fscs-crypto-not-protected", "note one", "note two")
    no_grace = settings.model_copy(update={"index": settings.index.model_copy(update={"prune_grace_seconds": 0})})
    third = build_index(no_grace, embedder)
    assert not (settings.index.path / "builds" / first.build_id).exists()
    assert not (settings.index.path / "builds" / second.build_id).exists()
    assert bot.refresh() and bot.index.build_id == third.build_id


def test_a_corrupt_store_names_the_file_and_bot_index_repairs_it(workspace: Settings) -> None:
    """Issue 13: a corrupt chroma.sqlite3 gave 'database disk image is malformed', naming no file, and
    `bot index` said 'up to date'."""
    embedder = shared_embedder()
    first = build_index(workspace, embedder)
    store = workspace.index.path / "builds" / first.build_id / "chroma" / "chroma.sqlite3"
    data = bytearray(store.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)
    store.write_bytes(bytes(data))
    # Embedded answers search the vectors in memory; /readyz (Index.problem) opens the store and says
    # which file is damaged and how to rebuild it.
    problem = Index(workspace, embedder).problem()
    assert problem and str(store.parent) in problem and "bot index" in problem
    repaired = build_index(workspace, embedder)
    assert not repaired.unchanged and repaired.build_id != first.build_id
    assert Bot(workspace, embedder).ask(QUESTION).kind == "answer"


def test_up_to_date_is_decided_from_the_manifest_and_file_hashes(workspace: Settings) -> None:
    """A no-change `bot index` answers before loading the model (issue 14); any change, a damaged store or
    another model setting sends it to the full build."""
    assert up_to_date(workspace) is None  # no index yet
    first = build_index(workspace, shared_embedder())
    quick = up_to_date(workspace)
    assert quick is not None and quick.unchanged and quick.build_id == first.build_id
    assert (quick.documents, quick.chunks) == (first.documents, first.chunks)
    assert (
        up_to_date(
            workspace.model_copy(update={"embedding": workspace.embedding.model_copy(update={"max_chunk_tokens": 100})})
        )
        is None
    )

    path = edit(workspace, "fscs-crypto-not-protected", "## ", "## Added (test locator)\n\nA new note.\n\n## ")
    assert up_to_date(workspace) is None
    second = build_index(workspace, shared_embedder())
    assert not second.unchanged and up_to_date(workspace) is not None
    path.rename(path.with_name("renamed.md"))  # same bytes under another name: not the indexed corpus
    assert up_to_date(workspace) is None
    path.with_name("renamed.md").rename(path)

    manifest = workspace.index.path / "builds" / second.build_id / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({k: v for k, v in data.items() if k != "files"}))  # a build made before
    assert up_to_date(workspace) is None
    assert build_index(workspace, shared_embedder()).unchanged  # ... records the hashes
    assert up_to_date(workspace) is not None

    # A build made with an older sentence splitter or chunker is rebuilt, not reused, though no file changed.
    current = workspace.index.path / "builds" / str(read_current(workspace.index.path))
    older = json.loads((current / "manifest.json").read_text())
    (current / "manifest.json").write_text(json.dumps({**older, "chunking_version": 1}))
    assert up_to_date(workspace) is None
    rebuilt = build_index(workspace, shared_embedder())
    assert not rebuilt.unchanged and up_to_date(workspace) is not None
    second = rebuilt

    store = workspace.index.path / "builds" / second.build_id / "chroma" / "chroma.sqlite3"
    release_embedded(store.parent.parent)  # as in a fresh `bot index` process: chromadb caches open stores
    store.write_bytes(store.read_bytes()[:100] + b"\xff" * 3996 + store.read_bytes()[4096:])
    assert up_to_date(workspace) is None
