"""What a build indexes (its manifest.json) and whether the current build already indexes the corpus on
disk, decided without parsing the corpus or loading the model."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import artifacts
from bot.chunking import CHUNKING_VERSION
from bot.corpus import corpus_files
from bot.embeddings import Encoder, model_fingerprint, onnx_file
from bot.errors import IndexMissingError, ModelLoadError, StoreUnavailableError
from bot.pointer import current_build, read_file
from bot.settings import Settings
from bot.types import Document

from .files import NewBuild, _doc_from_json
from .store import _store_problem, collection_name

log = logging.getLogger("bot.index")


@dataclass
class BuildReport:
    build_id: str
    corpus_version: str
    documents: int
    chunks: int
    embedded_chunks: int
    reused_chunks: int
    seconds: float
    unchanged: bool


def read_current(index_path: Path) -> str | None:
    """The build id in index.path/current (in Chroma-server mode the server's pointer decides:
    bot.pointer.current_build)."""
    return read_file(index_path)


def current_manifest(settings: Settings) -> dict[str, Any] | None:
    """The manifest of the current build (None when there is no readable build), read without the model."""
    try:
        build_id = current_build(settings)
    except StoreUnavailableError:
        return None  # `bot index` then says the server is down
    if not build_id:
        return None
    try:
        manifest: dict[str, Any] = json.loads((settings.index.path / "builds" / build_id / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    return manifest


def indexed_documents(settings: Settings) -> list[Document]:
    """The documents of the current build, read without the model or the vectors."""
    build_id = current_build(settings)
    if not build_id:
        raise IndexMissingError(f"No index in {settings.index.path}; build it with `bot index` (or `make run`).")
    artifacts.ensure_local(settings, build_id)  # Chroma server: downloaded when index.path lacks it
    try:
        rows = json.loads((settings.index.path / "builds" / build_id / "documents.json").read_text())
    except (OSError, ValueError) as exc:
        raise IndexMissingError(
            f"The index build {build_id} in {settings.index.path} is unreadable; rebuild it with `bot index`."
        ) from exc
    return [_doc_from_json(row) for row in rows]


def corpus_hashes(root: Path) -> dict[str, str] | None:
    """The sha256 of each corpus file by its path under root (None when root is not a folder)."""
    if not root.is_dir():
        return None
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in corpus_files(root)}


def up_to_date(settings: Settings, progress: Callable[[str], None] | None = None) -> BuildReport | None:
    """The current build's report when it already indexes exactly the corpus files on disk, for the
    configured model and store, and its store is sound; else None. Decided from the manifest and the
    files' hashes, without parsing the corpus or loading the model, so a no-change `bot index` is quick."""
    started = time.perf_counter()
    manifest = current_manifest(settings)
    if manifest is None or not isinstance(manifest.get("files"), dict):
        return None  # no build, or one made before file hashes were recorded: the full check decides
    try:
        fingerprint = model_fingerprint(settings.embedding.model)
    except ModelLoadError:
        return None  # the full build reports it
    if (
        manifest.get("model_fingerprint") != fingerprint
        or manifest.get("max_chunk_tokens") != settings.embedding.max_chunk_tokens
        or manifest.get("chunking_version", 1) != CHUNKING_VERSION
        or manifest.get("chroma_url") != settings.index.chroma_url
        or manifest["files"] != corpus_hashes(settings.corpus.path)
        or (settings.embedding.backend == "onnx" and not onnx_file(settings).exists())
    ):
        return None
    build_id = str(manifest["build_id"])
    chunks = int(manifest["chunks"])
    if _store_problem(settings, build_id, manifest, chunks):
        return None  # build_index says what is damaged and rebuilds
    (progress or log.info)(f"index is up to date (build {build_id}, corpus {manifest['corpus_version']})")
    return BuildReport(
        build_id,
        manifest["corpus_version"],
        len(manifest["documents"]),
        chunks,
        0,
        chunks,
        time.perf_counter() - started,
        True,
    )


def _compatible(manifest: dict[str, Any], embedder: Encoder, settings: Settings) -> bool:
    """Whether a build's vectors serve the configured model, chunk size and store."""
    return (
        manifest.get("model_fingerprint") == embedder.fingerprint
        and manifest.get("max_chunk_tokens") == settings.embedding.max_chunk_tokens
        and manifest.get("chunking_version", 1) == CHUNKING_VERSION
        and manifest.get("chroma_url") == settings.index.chroma_url
    )


def write_manifest(build: NewBuild, files: dict[str, str] | None, chunks: int) -> None:
    """Write manifest.json, the file that marks a build complete (so it is written last)."""
    settings = build.settings
    manifest = {
        "build_id": build.build_id,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "model": build.embedder.name,
        "model_fingerprint": build.embedder.fingerprint,
        "max_chunk_tokens": settings.embedding.max_chunk_tokens,
        "chunking_version": CHUNKING_VERSION,
        "corpus_version": build.version,
        "documents": {d.id: d.content_hash for d in build.documents},
        "files": files,
        "chunks": chunks,
        "chroma_url": settings.index.chroma_url,
        "collection": collection_name(settings, build.build_id),
    }
    (build.folder / "manifest.json").write_text(json.dumps(manifest, indent=2))


def _record_files(build_dir: Path, manifest: dict[str, Any], files: dict[str, str]) -> None:
    """Add the corpus files' hashes to the manifest of a build made before they were recorded, so that
    the next no-change `bot index` is decided without the model (best effort)."""
    partial = build_dir / f"manifest.json.{os.getpid()}.tmp"
    try:
        partial.write_text(json.dumps(manifest | {"files": files}, indent=2))
        os.replace(partial, build_dir / "manifest.json")
    except OSError as exc:
        log.warning("could not record the corpus file hashes in %s: %s", build_dir, exc)
        partial.unlink(missing_ok=True)
