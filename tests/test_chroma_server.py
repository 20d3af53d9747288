"""Server mode: the same index in a real `chroma run` server, and a clear error when it is down."""

from __future__ import annotations

import gc
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core import Bot
from bot.embeddings import shared_embedder
from bot.errors import StoreUnavailableError
from bot.index import build_index, collection_name
from bot.pointer import Lease, builds_read, current_build, registry_name

from .conftest import FIXTURE_CORPUS, make_settings
from .services import free_port, running_chroma

pytestmark = pytest.mark.slow


@pytest.fixture()
def chroma_server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A server of its own: the test kills it."""
    with running_chroma(tmp_path) as server:
        yield server


def test_server_mode_answers_and_reports_a_down_server(
    chroma_server: tuple[str, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    url, process = chroma_server
    settings = make_settings(FIXTURE_CORPUS, tmp_path / "index", index={"chroma_url": url})
    report = build_index(settings, shared_embedder())
    assert not (tmp_path / "index" / "builds" / report.build_id / "chroma").exists()
    bot = Bot(settings, shared_embedder())
    assert bot.index.ping() and bot.index.problem() is None
    answer = bot.ask("Is my crypto protected by SIPC if my US broker fails?")
    assert answer.kind == "answer" and answer.sections["US"]

    # A Chroma server restarted on an empty folder: /readyz must not say ready (issue 13).
    other = Bot(settings, shared_embedder())
    other.index.client.delete_collection(other.index.manifest["collection"])
    problem = bot.index.problem()
    assert problem and "missing" in problem and "bot index" in problem
    build_index(settings, shared_embedder())  # `bot index` repairs it (a new build, a new collection)
    assert bot.refresh() and bot.index.problem() is None

    process.kill()
    process.wait()
    assert not bot.index.ping()
    with pytest.raises(StoreUnavailableError, match="chroma run"):
        bot.ask("Is my crypto protected by SIPC if my US broker fails? (asked again)")
    with pytest.raises(StoreUnavailableError, match="cannot be reached"):
        Bot(settings, shared_embedder())


def test_unreachable_server_at_index_time(tmp_path: Path) -> None:
    settings = make_settings(
        FIXTURE_CORPUS, tmp_path / "index", index={"chroma_url": f"http://127.0.0.1:{free_port()}"}
    )
    with pytest.raises(StoreUnavailableError, match="BOT_INDEX__CHROMA_URL"):
        build_index(settings, shared_embedder())
    assert not list((tmp_path / "index" / "builds").glob("*"))


def test_replicas_follow_the_server_pointer_and_keep_the_build_they_read(chroma_url: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    index = {"chroma_url": chroma_url, "collection_prefix": "leases", "keep_builds": 1, "prune_grace_seconds": 0}
    settings = make_settings(corpus, tmp_path / "index", index=index | {"on_stale": "warn"})
    embedder = shared_embedder()
    first = build_index(settings, embedder)
    assert current_build(settings) == first.build_id
    replica = Bot(settings, embedder)  # serves the first build, and leases it
    lease = Lease(settings, "replica-1")
    lease.renew(builds_read())
    client = replica.index.client
    collections = lambda: {c.name for c in client.list_collections()}  # noqa: E731
    assert registry_name(settings) in collections()

    def edit(note: str) -> None:
        document = next(corpus.rglob("fscs-crypto-not-protected.md"))
        document.write_text(
            document.read_text().replace(
                "## ", f"## Note {note} (test locator)\n\nThe FSCS test note {note}.\n\n## ", 1
            )
        )

    edit("one")
    second = build_index(settings, embedder)  # keep_builds 1, no grace: only the lease keeps the first
    assert current_build(settings) == second.build_id
    assert (tmp_path / "index" / "builds" / first.build_id).is_dir()
    assert collection_name(settings, first.build_id) in collections()
    assert replica.ask("Is crypto on a failed exchange protected by the FSCS?").kind == "answer"

    assert replica.refresh() and replica.index.build_id == second.build_id  # the server's pointer
    gc.collect()
    assert first.build_id not in builds_read()
    lease.renew(builds_read())
    edit("two")
    third = build_index(settings, embedder)
    assert not (tmp_path / "index" / "builds" / first.build_id).exists()
    assert collection_name(settings, first.build_id) not in collections()
    assert collection_name(settings, second.build_id) in collections()  # leased now
    lease.release()
    assert replica.refresh() and replica.index.build_id == third.build_id
