"""Which index build is current, and which builds running servers still read: the pointer and the leases.

The pointer. Embedded, it is the file index.path/current, replaced atomically. With a Chroma server
(index.chroma_url) it is the record "current" in the server's collection `<index.collection_prefix>-builds`,
written once a build's collection is complete, so every replica reads one answer from the service they
all share. The file is written too, for tools that read it, but in server mode the server decides.

The leases. Each `bot serve` renews, every third of index.lease_seconds, a lease naming the builds it
reads (the one it serves, and an older one while requests in flight still use it): the record
"lease:<replica>" in the same collection, or embedded a file index.path/leases/<replica>.json. `bot index`
never prunes a build that an unexpired lease names, nor one retired less than index.prune_grace_seconds
ago. Lease times are each host's clock: keep the replicas' clocks in step (NTP).
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import socket
import time
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from bot.chroma import ChromaEmbedding, chroma_client
from bot.errors import StoreUnavailableError
from bot.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

POINTER_FILE = "current"
RETIRED = "retired_at"  # in a build folder: when it stopped being current (seconds since the epoch)
REGISTRY_SUFFIX = "builds"  # never a build's collection: build ids start with a digit
CURRENT_RECORD = "current"
LEASE_RECORD = "lease:"
LEASE_FOLDER = "leases"


class _NoEmbedding(ChromaEmbedding):
    """A Chroma embedding function that embeds nothing: the registry's records carry their own (one zero),
    so Chroma never loads a model for them."""

    NAME = "bot-no-embedding"
    SPACES = ("l2", "cosine", "ip")

    def __call__(self, input: list[str]) -> list[list[float]]:  # noqa: A002 - Chroma's name
        raise ValueError("the build registry's records carry explicit embeddings")


def registry_name(settings: Settings) -> str:
    """The Chroma collection that holds the pointer and the leases."""
    return f"{settings.index.collection_prefix}-{REGISTRY_SUFFIX}"


_registries: dict[tuple[str, str], Any] = {}  # opened once per process: servers read it every few seconds


def _registry(settings: Settings, fresh: bool = False) -> Any:
    key = (str(settings.index.chroma_url), registry_name(settings))
    if fresh or key not in _registries:
        client = chroma_client(settings, None)
        try:
            _registries[key] = client.get_or_create_collection(key[1], embedding_function=_NoEmbedding())
        except Exception as exc:
            raise _unavailable(settings, exc) from exc
    return _registries[key]


def _call(settings: Settings, action: Callable[[Any], T]) -> T:
    """Run action on the registry collection, opened again once if it fails (the Chroma server restarted,
    and the collection is new)."""
    try:
        return action(_registry(settings))
    except StoreUnavailableError:
        raise
    except Exception:  # tried once more on the registry opened again
        pass
    try:
        return action(_registry(settings, fresh=True))
    except StoreUnavailableError:
        raise
    except Exception as exc:
        raise _unavailable(settings, exc) from exc


def _unavailable(settings: Settings, exc: Exception) -> StoreUnavailableError:
    return StoreUnavailableError(
        f"The Chroma server at {settings.index.chroma_url} did not answer for the build registry "
        f"{registry_name(settings)} ({exc.__class__.__name__}: {exc}); check that `chroma run` is up."
    )


def _put(settings: Settings, record: str, metadata: dict[str, str | float]) -> None:
    _call(settings, lambda registry: registry.upsert(ids=[record], embeddings=[[0.0]], metadatas=[metadata]))


def read_file(index_path: Path) -> str | None:
    """The build id in the pointer file (None without one)."""
    pointer = index_path / POINTER_FILE
    return (pointer.read_text().strip() or None) if pointer.exists() else None


def _write_file(path: Path, text: str) -> None:
    partial = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(3)}.tmp")
    partial.write_text(text)
    os.replace(partial, path)  # atomic on POSIX


def current_build(settings: Settings) -> str | None:
    """The current build's id: the Chroma server's pointer in server mode (the file for a store whose
    builds predate it), else the file; None when nothing has been built."""
    if settings.index.chroma_url:
        found = _call(settings, lambda registry: registry.get(ids=[CURRENT_RECORD], include=["metadatas"]))
        if found["ids"]:
            return str(found["metadatas"][0]["build_id"])
    return read_file(settings.index.path)


def switch_to(settings: Settings, build_id: str) -> None:
    """Make a finished build current (the server's pointer, then the file) and record when the build it
    replaces stopped being current."""
    retiring = current_build(settings)
    if settings.index.chroma_url:
        _put(settings, CURRENT_RECORD, {"kind": "pointer", "build_id": build_id, "switched_at": time.time()})
    _write_file(settings.index.path / POINTER_FILE, build_id)
    retired = settings.index.path / "builds" / str(retiring)
    if retiring and retiring != build_id and retired.is_dir():
        # Running servers switch within server.reload_seconds; their requests in flight finish on the
        # old build, which their leases name and the grace period also keeps.
        (retired / RETIRED).write_text(str(time.time()))


def retired_for(build_dir: Path) -> float:
    """Seconds since the build stopped being current (infinite for a build with no record)."""
    try:
        return time.time() - float((build_dir / RETIRED).read_text())
    except (OSError, ValueError):
        return float("inf")


# Leases ---------------------------------------------------------------------------------------------

_open: weakref.WeakSet[Any] = weakref.WeakSet()


def reading(index: Any) -> None:
    """Count an opened index (anything with a build_id) as read by this process until it is gone."""
    _open.add(index)


def builds_read() -> set[str]:
    """The builds this process still reads: those of its open indexes (the served one, and an old one
    while requests in flight hold it)."""
    return {str(index.build_id) for index in list(_open)}


def replica_id() -> str:
    """A name for this process, unique among replicas: host, process id and a random tail."""
    name = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


class Lease:
    """This replica's lease on the builds it reads, renewed while it serves and dropped when it stops."""

    def __init__(self, settings: Settings, replica: str | None = None) -> None:
        self.settings = settings
        self.replica = replica or replica_id()

    def renew(self, builds: Iterable[str]) -> None:
        """Name the builds read now, until index.lease_seconds from now."""
        now = time.time()
        names = ",".join(sorted(set(builds)))
        record: dict[str, str | float] = {
            "kind": "lease",
            "replica": self.replica,
            "builds": names,
            "heartbeat": now,
            "expires": now + self.settings.index.lease_seconds,
        }
        if self.settings.index.chroma_url:
            _put(self.settings, LEASE_RECORD + self.replica, record)
        else:
            folder = self.settings.index.path / LEASE_FOLDER
            folder.mkdir(parents=True, exist_ok=True)
            _write_file(folder / f"{self.replica}.json", json.dumps(record))

    def release(self) -> None:
        """Drop the lease (best effort: an unreleased lease expires by itself)."""
        try:
            if self.settings.index.chroma_url:
                _call(self.settings, lambda registry: registry.delete(ids=[LEASE_RECORD + self.replica]))
            else:
                (self.settings.index.path / LEASE_FOLDER / f"{self.replica}.json").unlink(missing_ok=True)
        except Exception as exc:
            log.warning("could not drop the lease of replica %s: %s", self.replica, exc)


def _lease_records(settings: Settings) -> list[tuple[str, dict[str, Any]]]:
    if settings.index.chroma_url:
        found = _call(settings, lambda registry: registry.get(where={"kind": "lease"}, include=["metadatas"]))
        return list(zip(found["ids"], found["metadatas"], strict=True))
    records = []
    for file in sorted((settings.index.path / LEASE_FOLDER).glob("*.json")):
        try:
            records.append((file.name, json.loads(file.read_text())))
        except (OSError, ValueError):  # removed or being replaced meanwhile
            continue
    return records


def leased_builds(settings: Settings) -> dict[str, list[str]]:
    """The builds that unexpired leases name, each with the replicas that read it. Leases that expired
    (their replica died without dropping them) are deleted."""
    now = time.time()
    leased: dict[str, list[str]] = {}
    expired: list[str] = []
    for record, lease in _lease_records(settings):
        if float(lease.get("expires", 0)) <= now:
            expired.append(record)
            continue
        for build in filter(None, str(lease.get("builds", "")).split(",")):
            leased.setdefault(build, []).append(str(lease.get("replica", record)))
    if expired:
        _forget(settings, expired)
    return leased


def prunable(settings: Settings, candidates: list[Path]) -> list[Path]:
    """The build folders among candidates that nobody reads: not current, retired longer than
    index.prune_grace_seconds ago, and named by no unexpired lease."""
    if not candidates:
        return []
    current, leased = current_build(settings), leased_builds(settings)
    unread = []
    for build in candidates:
        if build.name == current or retired_for(build) < settings.index.prune_grace_seconds:
            continue
        if build.name in leased:
            log.info("keeping index build %s: replicas %s still read it", build.name, ", ".join(leased[build.name]))
            continue
        unread.append(build)
    return unread


def _forget(settings: Settings, records: list[str]) -> None:
    try:
        if settings.index.chroma_url:
            _call(settings, lambda registry: registry.delete(ids=records))
        else:
            for name in records:
                (settings.index.path / LEASE_FOLDER / name).unlink(missing_ok=True)
    except Exception as exc:  # an expired lease is ignored anyway
        log.warning("could not delete expired leases %s: %s", records, exc)
