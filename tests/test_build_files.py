"""A build's files in a real `chroma run` server (issue 13): a replica with an empty index.path downloads
the current build and answers as the replica that built it; a damaged upload is refused and the build
served before keeps serving; pruning deletes the files of old builds nobody leases. Embedded, nothing
is uploaded or downloaded."""

from __future__ import annotations

import base64
import gc
import hashlib
import os
import shutil
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

from bot.artifacts import (
    DOWNLOADED,
    _forget_downloads,
    artifacts_name,
    download_build,
    ensure_local,
    problem,
    upload_build,
)
from bot.chroma import chroma_client
from bot.core import Bot
from bot.embeddings import shared_embedder
from bot.errors import ArtifactError
from bot.index import build_index, indexed_documents
from bot.pointer import Lease, _NoEmbedding
from bot.settings import Settings

from .conftest import FIXTURE_CORPUS, make_settings

QUESTION = "Is my crypto protected by SIPC if my US broker fails?"


def host(corpus: Path, index_path: Path, chroma_url: str, prefix: str, **index: object) -> Settings:
    """The settings of one host: its own index.path, the shared Chroma server and collection prefix."""
    options = {"chroma_url": chroma_url, "collection_prefix": prefix, "on_stale": "warn"} | index
    return make_settings(corpus, index_path, index=options)


def edit(corpus: Path, note: str) -> None:
    document = next(corpus.rglob("fscs-crypto-not-protected.md"))
    text = document.read_text()
    document.write_text(text.replace("## ", f"## Note {note} (test locator)\n\nThe FSCS test note {note}.\n\n## ", 1))


def files_of(settings: Settings) -> Any:
    client = chroma_client(settings, None)
    return client.get_or_create_collection(artifacts_name(settings), embedding_function=_NoEmbedding())


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()}


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE_CORPUS, tmp_path / "corpus")
    return tmp_path / "corpus"


@pytest.mark.slow
def test_a_replica_with_an_empty_index_path_downloads_the_build_and_answers_the_same(
    chroma_url: str, corpus: Path, tmp_path: Path
) -> None:
    prefix = f"f{time.time_ns()}"
    builder = host(corpus, tmp_path / "a", chroma_url, prefix)
    report = build_index(builder, shared_embedder())
    elsewhere = host(corpus, tmp_path / "b", chroma_url, prefix)
    assert not elsewhere.index.path.exists()

    here, there = Bot(builder, shared_embedder()), Bot(elsewhere, shared_embedder())
    assert there.index.build_id == report.build_id
    downloaded = tmp_path / "b" / "builds" / report.build_id
    assert (downloaded / DOWNLOADED).is_file()
    assert digests(downloaded) == digests(tmp_path / "a" / "builds" / report.build_id) | {
        DOWNLOADED: digests(downloaded)[DOWNLOADED]
    }
    first, second = here.ask(QUESTION), there.ask(QUESTION)
    assert first.kind == "answer" and first.sections == second.sections and first.citations == second.citations
    third = host(corpus, tmp_path / "c", chroma_url, prefix)  # `bot sources` on yet another host
    assert [d.id for d in indexed_documents(third)] == list(here.index.documents)


@pytest.mark.slow
def test_a_damaged_or_missing_piece_is_refused_and_the_previous_build_keeps_serving(
    chroma_url: str, corpus: Path, tmp_path: Path
) -> None:
    prefix = f"f{time.time_ns()}"
    builder = host(corpus, tmp_path / "a", chroma_url, prefix)
    first = build_index(builder, shared_embedder())
    replica = Bot(host(corpus, tmp_path / "b", chroma_url, prefix), shared_embedder())
    assert replica.index.build_id == first.build_id

    edit(corpus, "one")
    second = build_index(builder, shared_embedder())
    collection = files_of(builder)
    piece = f"{second.build_id}:manifest.json:0"
    original = collection.get(ids=[piece], include=["metadatas"])["metadatas"][0]
    tampered = base64.b64encode(zlib.compress(b'{"build_id": "forged"}')).decode()
    collection.update(ids=[piece], metadatas=[original | {"data": tampered}])

    assert not replica.refresh()  # logged; the first build keeps serving
    assert replica.index.build_id == first.build_id and replica.ask(QUESTION).kind == "answer"
    assert sorted(p.name for p in (tmp_path / "b" / "builds").iterdir()) == [first.build_id]  # nothing half-made
    assert problem(builder, second.build_id)  # marked damaged: `bot index` makes a new build
    with pytest.raises(ArtifactError, match=r"not in .*, and its files are not in .*run `bot index`"):
        download_build(replica.settings, second.build_id)

    third = build_index(builder, shared_embedder())  # the corpus is unchanged, the upload was not
    assert not third.unchanged and third.build_id != second.build_id
    collection.delete(ids=[f"{third.build_id}:manifest.json:0"])
    with pytest.raises(ArtifactError, match=r"manifest\.json .* lacks 1 of its 1 pieces; .*bot index"):
        download_build(replica.settings, third.build_id)

    fourth = build_index(builder, shared_embedder())
    assert replica.refresh() and replica.index.build_id == fourth.build_id
    # The first build was still served while the fourth downloaded; once it is not, the next download
    # (here, another replica's of this host, which finds the fourth already there) removes it.
    assert sorted(p.name for p in (tmp_path / "b" / "builds").iterdir()) == [first.build_id, fourth.build_id]
    gc.collect()
    download_build(replica.settings, fourth.build_id)
    assert sorted(p.name for p in (tmp_path / "b" / "builds").iterdir()) == [fourth.build_id]


@pytest.mark.slow
def test_pruning_deletes_the_files_of_old_builds_nobody_leases(chroma_url: str, corpus: Path, tmp_path: Path) -> None:
    prefix = f"f{time.time_ns()}"
    builder = host(corpus, tmp_path / "a", chroma_url, prefix, keep_builds=1, prune_grace_seconds=0)
    collection = files_of(builder)
    stored = lambda build: collection.get(where={"build_id": build}, include=[])["ids"]  # noqa: E731

    first = build_index(builder, shared_embedder())
    assert problem(builder, first.build_id) is None and len(stored(first.build_id)) > 5
    lease = Lease(builder, "replica-elsewhere")
    lease.renew([first.build_id])

    edit(corpus, "one")
    second = build_index(builder, shared_embedder())
    assert stored(first.build_id) and stored(second.build_id)  # the lease keeps the first build's files

    lease.release()
    edit(corpus, "two")
    third = build_index(builder, shared_embedder())
    assert stored(first.build_id) == stored(second.build_id) == []
    assert problem(builder, first.build_id) and problem(builder, third.build_id) is None


def test_embedded_nothing_is_uploaded_or_downloaded(tmp_path: Path) -> None:
    settings = make_settings(FIXTURE_CORPUS, tmp_path / "index")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "manifest.json").write_text("{}")
    assert upload_build(settings, "20260101-a", tmp_path / "build") == 0
    ensure_local(settings, "20260101-a")  # no server to ask
    assert problem(settings, "20260101-a") is None and not (tmp_path / "index").exists()


def test_only_downloaded_builds_no_longer_read_and_stale_partial_downloads_are_removed(tmp_path: Path) -> None:
    builds = tmp_path / "builds"
    for name in ("built-here", "downloaded-old", "downloaded-new", "x.1-a.partial", "x.2-b.partial"):
        (builds / name).mkdir(parents=True)
    for name in ("downloaded-old", "downloaded-new"):
        (builds / name / DOWNLOADED).write_text("{}")
    old = time.time() - 7200
    os.utime(builds / "x.1-a.partial", (old, old))
    _forget_downloads(builds, keep="downloaded-new")
    assert sorted(p.name for p in builds.iterdir()) == ["built-here", "downloaded-new", "x.2-b.partial"]


@pytest.mark.slow
def test_builds_left_by_a_lost_indexer_host_are_pruned(chroma_url: str, corpus: Path, tmp_path: Path) -> None:
    """Host A builds and is lost; host B (its own index.path) builds twice: A's collection and uploaded files
    go once they are older than B's current build and the grace period, and nobody leases them."""
    prefix = f"l{time.time_ns()}"
    lost = host(corpus, tmp_path / "a", chroma_url, prefix, prune_grace_seconds=0, lease_seconds=1)
    other = host(corpus, tmp_path / "b", chroma_url, prefix, keep_builds=1, prune_grace_seconds=0, lease_seconds=1)
    client = chroma_client(other, None)
    names = lambda: {getattr(c, "name", c) for c in client.list_collections()}  # noqa: E731
    stored = lambda build: files_of(other).get(where={"build_id": build}, include=[])["ids"]  # noqa: E731

    left = build_index(lost, shared_embedder()).build_id
    assert stored(left) and f"{prefix}-{left}" in names()
    shutil.rmtree(tmp_path / "a")  # the host is gone

    edit(corpus, "one")
    first = build_index(other, shared_embedder()).build_id  # A's build was current until now: kept
    assert stored(left)
    time.sleep(2.1)  # seen retired for longer than the margin
    edit(corpus, "two")
    second = build_index(other, shared_embedder()).build_id
    assert stored(left) == [] and f"{prefix}-{left}" not in names()
    assert problem(other, second) is None and stored(second)
    assert first != second
