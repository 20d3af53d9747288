"""Measure a build's files in a Chroma server: the bytes `bot index` uploads, and a replica's cold download.

Uploads a copy of an existing build folder under a collection prefix of its own, downloads it into an
empty folder as a replica on another host would, checks the files match, and deletes the records.

    PYTHONPATH=$PWD .venv/bin/python scripts/build_files_bench.py --chroma-url http://127.0.0.1:8001 --index .index
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from pathlib import Path

from bot.artifacts import DOWNLOADED, delete_build, download_build, upload_build
from bot.pointer import read_file
from bot.settings import Settings


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chroma-url", required=True, help="a running `chroma run` server")
    parser.add_argument("--index", type=Path, default=Path(".index"), help="an index.path with a current build")
    parser.add_argument("--runs", type=int, default=3, help="cold downloads to time")
    args = parser.parse_args()
    build_id = read_file(args.index)
    if not build_id:
        raise SystemExit(f"no current build in {args.index}; run `bot index` first")
    source = args.index / "builds" / build_id
    prefix = f"bench{time.time_ns()}"
    with tempfile.TemporaryDirectory() as work:
        settings = Settings(
            index={"path": Path(work) / "replica", "chroma_url": args.chroma_url, "collection_prefix": prefix}
        )  # type: ignore[arg-type]
        started = time.perf_counter()
        sent = upload_build(settings, build_id, source)
        upload_seconds = time.perf_counter() - started
        raw = sum(p.stat().st_size for p in source.iterdir() if p.is_file() and p.name not in {"retired_at"})
        downloads = []
        try:
            for run in range(args.runs):
                replica = settings.model_copy(
                    update={"index": settings.index.model_copy(update={"path": Path(work) / f"replica-{run}"})}
                )
                started = time.perf_counter()
                folder = download_build(replica, build_id)
                downloads.append(time.perf_counter() - started)
                got = digests(folder)
                got.pop(DOWNLOADED)
                expected = {k: v for k, v in digests(source).items() if k != "retired_at"}
                assert got == expected, "the downloaded files differ from the build's"
        finally:
            delete_build(settings, build_id)
    print(
        json.dumps(
            {
                "build": build_id,
                "files_bytes": raw,
                "uploaded_bytes": sent,
                "upload_seconds": round(upload_seconds, 2),
                "cold_download_seconds": [round(s, 2) for s in downloads],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
