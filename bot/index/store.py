"""The Chroma side of a build: fill its collection, check that a build's store can serve, prune old builds."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import numpy as np

from bot import artifacts
from bot.chroma import chroma_client, release_embedded
from bot.embeddings import ChromaEmbeddingFunction
from bot.errors import BotError, StoreUnavailableError
from bot.pointer import current_build, leased_builds, prunable
from bot.settings import Settings
from bot.types import Chunk, Document

from .files import NewBuild

log = logging.getLogger("bot.index")

FAR_FUTURE = 99991231


def _ord(day: dt.date | None, default: int) -> int:
    return default if day is None else day.year * 10000 + day.month * 100 + day.day


def collection_name(settings: Settings, build_id: str) -> str:
    return f"{settings.index.collection_prefix}-{build_id}"


def fill_collection(build: NewBuild, chunks: list[Chunk], chunk_matrix: np.ndarray) -> None:
    """Create the build's Chroma collection and add every chunk with its vector and filter metadata."""
    by_id = {d.id: d for d in build.documents}
    client = chroma_client(build.settings, build.folder)
    collection = client.create_collection(
        name=collection_name(build.settings, build.build_id),
        embedding_function=ChromaEmbeddingFunction(build.embedder),  # never Chroma's default model
        metadata={"hnsw:space": "cosine", "corpus_version": build.version},
    )
    batch = 256
    for start in range(0, len(chunks), batch):
        part = chunks[start : start + batch]
        collection.add(
            ids=[c.id for c in part],
            embeddings=chunk_matrix[start : start + batch],
            documents=[c.embed_text for c in part],
            metadatas=[_metadata(by_id[c.doc_id], c) for c in part],
        )
    del collection, client
    if not build.settings.index.chroma_url:
        release_embedded(build.folder)  # its files move with the folder; servers open the final one


def _metadata(document: Document, chunk: Chunk) -> dict[str, Any]:
    return {
        "doc_id": document.id,
        "jurisdiction": document.jurisdiction,
        "publisher": document.publisher,
        "status": document.status,
        "doc_type": document.doc_type,
        "section": chunk.section_anchor,
        "published_ord": _ord(document.published, 0),
        "until_ord": _ord(document.until, FAR_FUTURE),
    }


# The chunks of a collection in an embedded Chroma store: rows of its metadata segment (Chroma 1.x's schema).
_COUNT = (
    "SELECT COUNT(*) FROM embeddings e JOIN segments s ON e.segment_id = s.id "
    "JOIN collections c ON s.collection = c.id WHERE c.name = ? AND s.scope = 'METADATA'"
)


def _sqlite_problem(build_dir: Path, collection: str, chunks: int) -> tuple[bool, str | None]:
    """(decided, problem) for an embedded store, read with sqlite3 rather than chromadb (a second to
    import): the file's integrity and the collection's count. Undecided when the schema is not the one
    known, and chromadb then decides."""
    file = build_dir / "chroma" / "chroma.sqlite3"
    if not file.is_file():
        return True, f"{file} is missing"
    try:
        with contextlib.closing(sqlite3.connect(f"file:{file}?mode=ro", uri=True)) as db:
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                return True, f"{file} is damaged: {check}"
            count = db.execute(_COUNT, (collection,)).fetchone()[0]
    except sqlite3.OperationalError:  # no such table or column: another Chroma schema
        return False, None
    except sqlite3.DatabaseError as exc:  # "database disk image is malformed", "file is not a database"
        return True, f"{file} is damaged: {exc}"
    return True, None if count == chunks else f"collection {collection} holds {count} of {chunks} chunks"


def _store_problem(settings: Settings, build_id: str, manifest: dict[str, Any], chunks: int) -> str | None:
    """Why a build's vector store cannot serve (collection gone, wrong count, a corrupt file), or None.
    A store that cannot be reached at all is not damage: `bot index` then fails on its own error."""
    if manifest.get("chroma_url") != settings.index.chroma_url:
        return None  # incompatible anyway: rebuilt for the configured store
    if not settings.index.chroma_url:
        decided, problem = _sqlite_problem(settings.index.path / "builds" / build_id, manifest["collection"], chunks)
        if decided:
            return problem
    try:
        client = chroma_client(settings, settings.index.path / "builds" / build_id)
        missing = artifacts.problem(settings, build_id)  # Chroma server: replicas elsewhere download them
    except StoreUnavailableError:
        return None
    except Exception as exc:
        return f"{exc.__class__.__name__}: {exc}"
    if missing:
        return missing
    try:
        # Always our own embedding function: without one, Chroma would fetch its default model.
        collection = client.get_collection(
            manifest["collection"], embedding_function=ChromaEmbeddingFunction(model=settings.embedding.model)
        )
        count = collection.count()
    except Exception as exc:
        return f"collection {manifest['collection']} unreadable: {exc.__class__.__name__}: {exc}"
    return None if count == chunks else f"collection {manifest['collection']} holds {count} of {chunks} chunks"


def build_time(build_id: str) -> float | None:
    """When a build was made, from its id ("20261207023959295241-dc1eac4d"); None for another shape."""
    try:
        stamp = dt.datetime.strptime(build_id.split("-", 1)[0], "%Y%m%d%H%M%S%f").replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    return stamp.timestamp()


def _prune_other_hosts(settings: Settings, local: set[str]) -> None:
    """Delete the collections and uploaded files of builds that another indexer host made and left (it was
    lost, or replaced): builds this host does not hold, older than the current build, that no unexpired
    lease names, once this host has seen them so for the grace period (and two lease periods). When each
    was first seen so is kept in index.path/other-hosts.json."""
    try:
        client = chroma_client(settings, None)
        prefix = f"{settings.index.collection_prefix}-"
        names = [getattr(c, "name", c) for c in client.list_collections()]
        ids = {n[len(prefix) :] for n in names if isinstance(n, str) and n.startswith(prefix)}
        ids |= set(artifacts.uploaded_builds(settings))
        current, leased = current_build(settings), leased_builds(settings)
    except Exception as exc:  # a stale build only costs space
        log.warning("builds of other indexer hosts are kept this time: %s", exc)
        return
    current_time = build_time(current) if current else None
    record = settings.index.path / "other-hosts.json"
    try:
        seen: dict[str, float] = json.loads(record.read_text()) if record.is_file() else {}
    except (OSError, ValueError):
        seen = {}
    margin = max(settings.index.prune_grace_seconds, 2 * settings.index.lease_seconds)
    now = time.time()
    left: dict[str, float] = {}
    for build_id in sorted(ids - local - {current} - set(leased)):
        made = build_time(build_id)
        if made is None or current_time is None or made >= current_time:
            continue  # not a build id, or newer than the current build (another host may be switching to it)
        first_seen = seen.get(build_id, now)
        if now - first_seen < margin:
            left[build_id] = first_seen
            continue
        log.info("pruning index build %s, left by another indexer host", build_id)
        with contextlib.suppress(Exception):  # only its uploaded files were left
            client.delete_collection(collection_name(settings, build_id))
        artifacts.delete_build(settings, build_id)
    with contextlib.suppress(OSError):
        record.write_text(json.dumps(left))


def _prune(settings: Settings, keep: int) -> None:
    """Delete old builds (and their Chroma collections), keeping the newest `keep`, the current one, any
    retired less than index.prune_grace_seconds ago and any that a serving replica's lease names."""
    builds = settings.index.path / "builds"
    finished = sorted(p for p in builds.iterdir() if p.is_dir() and not p.name.endswith(".partial"))
    try:
        unread = prunable(settings, finished[:-keep])
    except BotError as exc:  # who reads what is unknown: keep everything this time
        log.warning("old index builds are kept: %s", exc)
        unread = []
    for old in unread:
        if settings.index.chroma_url:
            try:
                chroma_client(settings, None).delete_collection(collection_name(settings, old.name))
            except Exception as exc:  # a stale collection only costs space
                log.warning("could not delete Chroma collection for build %s: %s", old.name, exc)
            artifacts.delete_build(settings, old.name)
        shutil.rmtree(old, ignore_errors=True)
    if settings.index.chroma_url:
        _prune_other_hosts(settings, {p.name for p in finished})
    for stale in builds.glob("*.partial"):
        if time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)
