"""The pointer to the current build and the replicas' leases (issue 13): embedded in the index folder,
and in a real `chroma run` server, where every replica reads them."""

from __future__ import annotations

import gc
import json
import time
from pathlib import Path

import pytest

from bot.pointer import (
    LEASE_FOLDER,
    Lease,
    builds_read,
    current_build,
    leased_builds,
    prunable,
    read_file,
    reading,
    registry_name,
    switch_to,
)
from bot.settings import Settings

from .conftest import FIXTURE_CORPUS, make_settings

MODES = ["embedded", pytest.param("server", marks=pytest.mark.slow)]


@pytest.fixture(params=MODES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings over an empty index folder; in server mode, on the session's Chroma server with a
    collection prefix of this test's own."""
    index: dict[str, object] = {"prune_grace_seconds": 0, "lease_seconds": 30}
    if request.param == "server":
        url = request.getfixturevalue("chroma_url")
        index |= {"chroma_url": url, "collection_prefix": f"t{time.time_ns()}"}
    return make_settings(FIXTURE_CORPUS, tmp_path / "index", index=index)


def builds(settings: Settings, *names: str) -> list[Path]:
    """Finished build folders, as `bot index` leaves them."""
    folders = [settings.index.path / "builds" / name for name in names]
    for folder in folders:
        folder.mkdir(parents=True)
    return folders


def test_the_pointer_names_the_build_switched_to_and_retires_the_old_one(settings: Settings) -> None:
    assert current_build(settings) is None
    first, second = builds(settings, "20260101-a", "20260102-b")
    switch_to(settings, first.name)
    assert current_build(settings) == read_file(settings.index.path) == first.name
    switch_to(settings, second.name)
    assert current_build(settings) == read_file(settings.index.path) == second.name
    assert (first / "retired_at").is_file() and not (second / "retired_at").exists()


def test_a_leased_build_is_not_pruned_until_the_lease_is_dropped_or_expires(settings: Settings) -> None:
    old, older, current = builds(settings, "20260101-a", "20260102-b", "20260103-c")
    for build in (old, older, current):
        switch_to(settings, build.name)
    lease = Lease(settings, "replica-a")
    lease.renew([old.name])
    assert leased_builds(settings) == {old.name: ["replica-a"]}
    assert prunable(settings, [old, older, current]) == [older]  # the current one and the leased one stay

    lease.release()
    assert prunable(settings, [old, older]) == [old, older]

    dead = Lease(settings.model_copy(update={"index": settings.index.model_copy(update={"lease_seconds": 2.0})}))
    dead.renew([old.name])  # a replica that died without dropping its lease
    assert prunable(settings, [old]) == []
    time.sleep(2.1)
    assert prunable(settings, [old]) == [old]
    assert leased_builds(settings) == {}  # the expired lease is deleted


def test_the_grace_period_still_keeps_a_build_just_retired(settings: Settings) -> None:
    old, current = builds(settings, "20260101-a", "20260102-b")
    switch_to(settings, old.name)
    switch_to(settings, current.name)
    patient = settings.model_copy(update={"index": settings.index.model_copy(update={"prune_grace_seconds": 600})})
    assert prunable(patient, [old]) == []
    assert prunable(settings, [old]) == [old]


def test_the_server_pointer_decides_over_the_file(settings: Settings) -> None:
    first, second = builds(settings, "20260101-a", "20260102-b")
    switch_to(settings, first.name)
    (settings.index.path / "current").write_text(second.name)  # a stale or hand-edited file
    expected = first.name if settings.index.chroma_url else second.name
    assert current_build(settings) == expected


class OpenIndex:
    def __init__(self, build_id: str) -> None:
        self.build_id = build_id


def test_an_open_index_is_read_until_it_is_gone() -> None:
    index = OpenIndex("20260101-a")
    reading(index)
    assert "20260101-a" in builds_read()
    del index
    gc.collect()
    assert "20260101-a" not in builds_read()


def test_an_embedded_lease_is_a_file_in_the_index_folder(tmp_path: Path) -> None:
    settings = make_settings(FIXTURE_CORPUS, tmp_path / "index")
    Lease(settings, "host-1-abc").renew(["b", "a"])
    record = json.loads((tmp_path / "index" / LEASE_FOLDER / "host-1-abc.json").read_text())
    assert record["builds"] == "a,b" and record["expires"] > time.time()
    assert registry_name(settings) == "bot-builds"


@pytest.mark.slow
def test_the_registry_is_made_again_when_the_chroma_server_lost_it(chroma_url: str, tmp_path: Path) -> None:
    from bot.chroma import chroma_client

    settings = make_settings(
        FIXTURE_CORPUS, tmp_path / "index", index={"chroma_url": chroma_url, "collection_prefix": "lost"}
    )
    first, second = builds(settings, "20260101-a", "20260102-b")
    switch_to(settings, first.name)
    chroma_client(settings, None).delete_collection(registry_name(settings))  # a server restarted empty
    assert current_build(settings) == first.name  # the file, until the server has a pointer again
    switch_to(settings, second.name)
    Lease(settings, "replica-a").renew([second.name])
    assert current_build(settings) == second.name and leased_builds(settings) == {second.name: ["replica-a"]}
