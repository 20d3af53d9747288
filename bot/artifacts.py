"""A build's files in the Chroma server, so that a replica on any host can serve it (issue 13).

With a Chroma server (index.chroma_url), `bot index` uploads the files of each build folder (chunks,
documents, the BM25 postings, the chunk, sentence and investor-question vectors, the manifest) to the
collection `<index.collection_prefix>-artifacts` before it moves the pointer: each file compressed with
zlib and cut into pieces of PIECE_BYTES, one record a piece (id `<build>:<file>:<n>`), then one record
`<build>:files` listing the files, their sizes, piece counts and sha256. That record is written last,
so a build without it was never completely uploaded.

A replica whose index.path lacks the build the pointer names downloads it into a folder of its own,
checks every file's sha256, and only then renames the folder into place: a failed or damaged download
leaves nothing behind, and the build served before keeps serving. Downloaded folders are marked with
the file DOWNLOADED and removed once the replica reads another build. Pruning a build in `bot index`
deletes its records.

The pieces are kept in a record's metadata, not its document: Chroma indexes documents for full-text
search, which made uploads about eight times slower on this machine.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import secrets
import shutil
import time
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from bot.chroma import chroma_client
from bot.errors import ArtifactError, StoreUnavailableError
from bot.pointer import RETIRED, _NoEmbedding, builds_read
from bot.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

ARTIFACTS_SUFFIX = "artifacts"  # never a build's collection: build ids start with a digit
PIECE_BYTES = 512 * 1024  # of compressed bytes; about 700 KB of base64 a record
BATCH = 4  # records a request
DOWNLOADED = "downloaded"  # in a build folder fetched from the Chroma server
LOCAL_ONLY = {"chroma", RETIRED, DOWNLOADED}  # what a build folder holds for its own host only


def artifacts_name(settings: Settings) -> str:
    """The Chroma collection that holds the builds' files."""
    return f"{settings.index.collection_prefix}-{ARTIFACTS_SUFFIX}"


def _listing_id(build_id: str) -> str:
    return f"{build_id}:files"


def _piece_id(build_id: str, file: str, n: int) -> str:
    return f"{build_id}:{file}:{n}"


def _open(settings: Settings) -> Any:
    """The artifacts collection, opened once per upload or download."""
    client = chroma_client(settings, None)
    # An explicit embedding function: without one, Chroma would fetch its default model.
    return _guard(
        settings, lambda: client.get_or_create_collection(artifacts_name(settings), embedding_function=_NoEmbedding())
    )


def _guard(settings: Settings, action: Callable[[], T]) -> T:
    """Run a request to the Chroma server; one that fails is StoreUnavailableError."""
    try:
        return action()
    except Exception as exc:
        raise StoreUnavailableError(
            f"The Chroma server at {settings.index.chroma_url} did not answer for the index files in "
            f"{artifacts_name(settings)} ({exc.__class__.__name__}: {exc}); check that `chroma run` is up."
        ) from exc


def upload_build(settings: Settings, build_id: str, folder: Path) -> int:
    """Upload a finished build folder's files to the Chroma server (nothing embedded); the compressed
    bytes sent. On failure the records written are deleted (best effort)."""
    if not settings.index.chroma_url:
        return 0
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name not in LOCAL_ONLY)
    listing: list[dict[str, Any]] = []
    sent = 0
    collection = _open(settings)
    try:
        for file in files:
            raw = file.read_bytes()
            packed = zlib.compress(raw, 6)
            pieces = [packed[i : i + PIECE_BYTES] for i in range(0, len(packed), PIECE_BYTES)] or [b""]
            digest = hashlib.sha256(raw).hexdigest()
            entry = {"file": file.name, "bytes": len(raw), "sha256": digest, "pieces": len(pieces)}
            for start in range(0, len(pieces), BATCH):
                part = pieces[start : start + BATCH]
                ids = [_piece_id(build_id, file.name, start + n) for n in range(len(part))]
                metadatas = [
                    {"kind": "piece", "build_id": build_id, "file": file.name, "piece": start + n}
                    | {"pieces": len(pieces), "sha256": digest, "data": base64.b64encode(data).decode("ascii")}
                    for n, data in enumerate(part)
                ]
                _guard(
                    settings, partial(collection.upsert, ids=ids, embeddings=[[0.0]] * len(ids), metadatas=metadatas)
                )
            listing.append(entry)
            sent += len(packed)
        record = {"kind": "files", "build_id": build_id, "files": json.dumps(listing), "uploaded_at": time.time()}
        _guard(settings, lambda: collection.upsert(ids=[_listing_id(build_id)], embeddings=[[0.0]], metadatas=[record]))
    except BaseException:
        delete_build(settings, build_id)
        raise
    log.info(
        "uploaded the %d files of index build %s (%d bytes compressed) to %s",
        len(files),
        build_id,
        sent,
        settings.index.chroma_url,
    )
    return sent


def problem(settings: Settings, build_id: str) -> str | None:
    """Why replicas on other hosts could not download a build (its files are not all in the Chroma
    server), or None; embedded, always None."""
    if not settings.index.chroma_url:
        return None
    collection = _open(settings)
    found = _guard(settings, lambda: collection.get(ids=[_listing_id(build_id)], include=["metadatas"]))
    if not found["ids"]:
        return f"the files of build {build_id} are not (all) in {artifacts_name(settings)}"
    expected = 1 + sum(int(entry["pieces"]) for entry in json.loads(str(found["metadatas"][0]["files"])))
    stored = _guard(settings, lambda: collection.get(where={"build_id": build_id}, include=[]))
    if len(stored["ids"]) != expected:
        return f"{artifacts_name(settings)} holds {len(stored['ids'])} of the {expected} records of build {build_id}"
    return None


def ensure_local(settings: Settings, build_id: str) -> None:
    """Make sure index.path holds the build folder: in Chroma-server mode, download it when it does not."""
    folder = settings.index.path / "builds" / build_id
    if settings.index.chroma_url and not (folder / "manifest.json").is_file():
        download_build(settings, build_id)


def download_build(settings: Settings, build_id: str) -> Path:
    """Download a build's files from the Chroma server into index.path/builds/<build_id>, every file's
    sha256 checked before the folder is renamed into place; ArtifactError says what failed."""
    started = time.perf_counter()
    builds = settings.index.path / "builds"
    final = builds / build_id
    builds.mkdir(parents=True, exist_ok=True)
    collection = _open(settings)
    listing = _listing(settings, collection, build_id)
    staging = builds / f"{build_id}.{os.getpid()}-{secrets.token_hex(3)}.partial"  # pruned if left behind
    staging.mkdir()
    try:
        total = sum(_download_file(settings, collection, build_id, entry, staging) for entry in listing)
        (staging / DOWNLOADED).write_text(json.dumps({"chroma_url": settings.index.chroma_url, "at": time.time()}))
        try:
            os.replace(staging, final)
        except OSError:
            if not (final / "manifest.json").is_file():
                raise ArtifactError(
                    f"Could not put the downloaded index build in {final}: the folder is in the way; "
                    "delete it and start the replica again."
                ) from None
            shutil.rmtree(staging, ignore_errors=True)  # another replica on this host was first
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info(
        "downloaded index build %s (%d files, %d bytes) from %s in %.1fs",
        build_id,
        len(listing),
        total,
        settings.index.chroma_url,
        time.perf_counter() - started,
    )
    _forget_downloads(builds, keep=build_id)
    return final


def _listing(settings: Settings, collection: Any, build_id: str) -> list[dict[str, Any]]:
    found = _guard(settings, lambda: collection.get(ids=[_listing_id(build_id)], include=["metadatas"]))
    if not found["ids"]:
        raise ArtifactError(
            f"The index build {build_id} is not in {settings.index.path}, and its files are not in the "
            f"Chroma server's {artifacts_name(settings)} (a build made before they were uploaded, or an "
            "upload cut short); run `bot index` to make a build every replica can download."
        )
    listing: list[dict[str, Any]] = json.loads(str(found["metadatas"][0]["files"]))
    return listing


def _download_file(settings: Settings, collection: Any, build_id: str, entry: dict[str, Any], folder: Path) -> int:
    """Fetch one file's pieces, check its sha256 and write it into folder; its size."""
    name, count, expected = str(entry["file"]), int(entry["pieces"]), str(entry["sha256"])
    ids = [_piece_id(build_id, name, n) for n in range(count)]
    pieces: dict[str, dict[str, Any]] = {}
    for start in range(0, count, BATCH):
        part = ids[start : start + BATCH]
        found = _guard(settings, partial(collection.get, ids=part, include=["metadatas"]))
        pieces.update(zip(found["ids"], found["metadatas"], strict=True))
    missing = [i for i in ids if i not in pieces]
    fault: str | None = f"lacks {len(missing)} of its {count} pieces" if missing else None
    raw = b""
    if fault is None:
        try:
            raw = zlib.decompress(b"".join(base64.b64decode(str(pieces[i]["data"]), validate=True) for i in ids))
        except (ValueError, zlib.error) as exc:
            fault = f"cannot be decoded ({exc})"
    actual = hashlib.sha256(raw).hexdigest()
    if fault is None and actual != expected:
        fault = f"does not match its sha256 ({actual[:12]}…, not {expected[:12]}…)"
    if fault is not None:
        # Marked incomplete, so that the next `bot index` sees the damage and makes a new build.
        _guard(settings, partial(collection.delete, ids=[_listing_id(build_id)]))
        raise ArtifactError(
            f"The file {name} of index build {build_id} in the Chroma server's {artifacts_name(settings)} "
            f"{fault}; the build is marked damaged: run `bot index` to make a new one. The replica keeps "
            "serving the build it has."
        )
    (folder / name).write_bytes(raw)
    return len(raw)


def _forget_downloads(builds: Path, keep: str) -> None:
    """Remove the other downloaded build folders this process no longer reads: a replica opens a build
    into memory, so a folder removed under another replica of this host costs it a download at most."""
    reading = builds_read()
    for folder in builds.iterdir():
        try:
            stale = time.time() - folder.stat().st_mtime > 3600
        except OSError:  # removed meanwhile
            continue
        if folder.name.endswith(".partial"):  # another replica's download in progress, unless stale
            unread = stale
        else:
            unread = folder.name not in (keep, *reading) and (folder / DOWNLOADED).is_file()
        if unread:
            shutil.rmtree(folder, ignore_errors=True)


def uploaded_builds(settings: Settings) -> list[str]:
    """The builds whose file list is in the Chroma server (any host's), by id."""
    collection = _open(settings)
    found = _guard(settings, lambda: collection.get(where={"kind": "files"}, include=["metadatas"]))
    return sorted({str(meta["build_id"]) for meta in found.get("metadatas") or [] if meta and meta.get("build_id")})


def delete_build(settings: Settings, build_id: str) -> None:
    """Delete a build's files from the Chroma server (best effort: stale records only cost space)."""
    if not settings.index.chroma_url:
        return
    try:
        collection = _open(settings)
        _guard(settings, lambda: collection.delete(where={"build_id": build_id}))
    except Exception as exc:
        log.warning("could not delete the files of index build %s from the Chroma server: %s", build_id, exc)
