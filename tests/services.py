"""Real shared services for the tests, each started once per run on a free loopback port and stopped
at the end: a `redis-server` (`redis_url`), a PostgreSQL cluster (`postgres_url`, a SQLAlchemy URL)
and a `chroma run` server (`chroma_url`). A missing program fails the test with the command that
installs it; nothing is skipped. tests/conftest.py imports the fixtures."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

INSTALL_SERVICES = "run `make services` (Debian's redis-server and postgresql packages)"
POSTGRES_USER = "bot"  # the cluster's superuser, and the database's name
START_SECONDS = 60.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def program(name: str, fix: str = INSTALL_SERVICES) -> str:
    """The path of a program on the PATH, or fail the test with the command that installs it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; {fix}.")
    return path


def postgres_bin() -> Path:
    """The folder of the PostgreSQL server programs: pg_ctl's on the PATH, else Debian's newest
    /usr/lib/postgresql/<version>/bin (Debian keeps them off the PATH)."""
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).resolve().parent
    versions = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists() and p.parent.name.isdigit()),
        key=lambda p: int(p.parent.name),
    )
    if not versions:
        pytest.fail(f"PostgreSQL (initdb, pg_ctl) is not installed; {INSTALL_SERVICES}.")
    return versions[-1]


def wait_for(ready: Callable[[], bool], process: subprocess.Popen[bytes] | None, name: str, log: Path) -> None:
    """Wait until ready() is true; fail with the end of the log if the process exits or it takes too long."""
    deadline = time.monotonic() + START_SECONDS
    while not _safely(ready):
        if process is not None and process.poll() is not None:
            pytest.fail(f"{name} exited with {process.returncode}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            pytest.fail(f"{name} was not ready in {START_SECONDS:.0f} s:\n{_tail(log)}")
        time.sleep(0.2)


def _safely(check: Callable[[], bool]) -> bool:
    try:
        return check()
    except Exception:  # not up yet: connection refused, reset, loading
        return False


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:] if log.exists() else "(no log)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# Redis ----------------------------------------------------------------------------------------------


@contextmanager
def running_redis(folder: Path) -> Iterator[str]:
    """A redis-server on a free loopback port with no persistence; yields redis://127.0.0.1:port/0."""
    import redis

    server = program("redis-server")
    port = free_port()
    log = folder / "redis.log"
    command = [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    command += ["--dir", str(folder), "--daemonize", "no"]
    url = f"redis://127.0.0.1:{port}/0"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        client = redis.Redis.from_url(url, socket_timeout=2)
        wait_for(lambda: bool(client.ping()), process, "redis-server", log)
        client.close()
        yield url
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server for this test run (empty, no persistence): redis://127.0.0.1:port/0."""
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


# PostgreSQL -----------------------------------------------------------------------------------------


def _as_postgres() -> list[str]:
    """The prefix that runs a PostgreSQL program: as the `postgres` user when we are root (the server
    refuses to run as root), as ourselves otherwise."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail(f"Running as root needs the `postgres` user to start PostgreSQL; {INSTALL_SERVICES}.")
    return [program("runuser", "install util-linux"), "-u", "postgres", "--"]


def _run(command: list[str], name: str, log: Path) -> None:
    with log.open("ab") as out:
        result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, timeout=120, check=False)
    if result.returncode != 0:
        pytest.fail(f"{name} failed with {result.returncode}:\n{_tail(log)}")


@contextmanager
def running_postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free loopback port (trust auth, fsync off) with one database;
    yields its SQLAlchemy URL, postgresql+psycopg://bot@127.0.0.1:port/bot."""
    bin_dir = postgres_bin()
    prefix = _as_postgres()
    # Not under pytest's temp folder: as root that folder is 0700 and the postgres user cannot enter it.
    folder = Path(tempfile.mkdtemp(prefix="bot-test-postgres-"))
    if prefix:
        shutil.chown(folder, "postgres", "postgres")
    data, log, port = folder / "data", folder / "postgres.log", free_port()
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", POSTGRES_USER, "--auth=trust", "--encoding=UTF8"]
    _run(prefix + initdb + ["--no-sync", "--no-instructions"], "initdb", folder / "initdb.log")
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder} -c fsync=off"
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data)]
    started = False
    try:
        start = pg_ctl + ["-l", str(log), "-o", options, "-w", "-t", str(int(START_SECONDS)), "start"]
        _run(prefix + start, "pg_ctl start", folder / "pg_ctl.log")
        started = True
        createdb = [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", POSTGRES_USER]
        _run(prefix + createdb + [POSTGRES_USER], "createdb", folder / "createdb.log")
        yield f"postgresql+psycopg://{POSTGRES_USER}@127.0.0.1:{port}/{POSTGRES_USER}"
    finally:
        if started:
            subprocess.run(prefix + pg_ctl + ["-m", "immediate", "-w", "stop"], capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for this test run, with an empty database: its SQLAlchemy URL."""
    with running_postgres() as url:
        yield url


# Chroma ---------------------------------------------------------------------------------------------


@contextmanager
def running_chroma(folder: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A `chroma run` server over a folder on a free loopback port; yields its URL and process (a test
    may kill it to see how the bot copes)."""
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or program(
        "chroma", "run `make install` (chromadb is a dependency of the bot)"
    )
    port = free_port()
    url, log = f"http://127.0.0.1:{port}", folder / "chroma.log"
    command = [chroma, "run", "--path", str(folder / "chroma-data"), "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200, process, "chroma", log)
        yield url, process
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `chroma run` server for this test run, over an empty folder: its URL."""
    with running_chroma(tmp_path_factory.mktemp("chroma")) as (url, _):
        yield url
