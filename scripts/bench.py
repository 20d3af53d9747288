"""Benchmark: answer latency by stage, the naive langchain recipe side by side, indexing, 100,000 chunks, cold start.

.venv/bin/python scripts/bench.py [--json] [--questions eval/questions] [--limit N] [--repeat 2]
                                  [--scale 100000] [--cold-runs 3] [--skip-cold] [--skip-scale]
                                  [--index .index] [--backend torch|onnx]

Everything is measured in one run, on this machine, against a fresh index of corpus/ in a temporary
folder: the table goes to stdout, or with --json one JSON object goes to stdout and the table to
stderr. The targets (docs/performance.md) are judged against these figures, never in timed tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bot.core import Bot  # noqa: E402
from bot.corpus import load_corpus  # noqa: E402
from bot.embeddings import Embedder, Encoder, OnnxEncoder, ensure_onnx, shared_embedder  # noqa: E402
from bot.eval.metrics import ranked_evidence_docs  # noqa: E402
from bot.index import _doc_to_json, build_index, read_current  # noqa: E402
from bot.settings import Settings  # noqa: E402

AS_OF = dt.date(2026, 11, 24)  # the development set's date (Makefile EVAL_AS_OF)
STAGES = ("embed", "analyse", "dense", "bm25", "retrieve", "compose", "total")
JSON_KEYS = (
    "answer_p50_ms",
    "answer_p95_ms",
    "encode_p50_ms",
    "naive_p50_ms",
    "naive_recall5",
    "recall5",
    "build_chunks_per_s",
    "raw_encode_chunks_per_s",
    "noop_reindex_s",
    "scale_chunks",
    "scale_answer_p50_ms",
    "scale_answer_p95_ms",
    "scale_lexical_p50_ms",
    "scale_dense_p50_ms",
    "cli_first_answer_s",
    "floor_s",
    "readyz_s",
    "peak_rss_mb",
)
FLOOR_SCRIPT = """
import os, sys
os.environ.setdefault("HF_HUB_OFFLINE", "1")
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(sys.argv[1], device="cpu")
model.encode(["Is my crypto protected if a UK exchange fails?"], normalize_embeddings=True)
"""
COLD_QUESTION = "Is my crypto protected if a UK exchange fails?"


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (as `bot eval` reports it)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(np.ceil(share * len(ordered))) - 1))]


def records_from(path: Path, limit: int | None) -> list[dict[str, Any]]:
    """The development questions (JSONL records), in file order."""
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    found: list[dict[str, Any]] = []
    for file in files:
        for line in file.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("question"), str):
                found.append(record)
    return found[:limit] if limit else found


def machine() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
    }


def ask_record(bot: Bot, record: dict[str, Any]) -> Any:
    """Ask one development question the way `bot eval` asks it."""
    day = dt.date.fromisoformat(record["as_of"]) if record.get("as_of") else AS_OF
    return bot.ask(
        record["question"], history=record.get("history") or None, jurisdictions=record.get("jurisdictions"), as_of=day
    )


def expects_sources(record: dict[str, Any]) -> bool:
    """Questions that recall@5 counts (as `bot eval` does: answers with expected sources)."""
    return bool(record.get("expected_sources")) and record.get("expected_kind") in (None, "answer")


def recall(expected: list[str], found: list[str]) -> float:
    wanted = list(dict.fromkeys(expected))
    return len(set(wanted) & set(found)) / len(wanted)


def timed_answers(
    bot: Bot, embedder: Embedder, records: list[dict[str, Any]], repeat: int
) -> tuple[dict[str, list[float]], list[float], list[float]]:
    """Warm answers by stage, and one encode of each question by the model alone right after its answer."""
    for record in records:  # warm-up: caches, lazy imports, the intent classifier
        ask_record(bot, record)
    stages: dict[str, list[float]] = {stage: [] for stage in STAGES}
    encodes: list[float] = []
    recalls: list[float] = []
    for round_number in range(repeat):
        for record in records:
            embedder.forget_queries()  # the real query embedding, not the cache
            getattr(bot.embedder, "forget_queries", lambda: None)()  # the bot's own encoder, when it is the ONNX one
            started = time.perf_counter()
            embedder.encode([record["question"]])
            encodes.append((time.perf_counter() - started) * 1000)
            answer = ask_record(bot, record)
            for stage in STAGES:
                stages[stage].append(float(answer.timings.get(stage, 0.0)))
            if round_number == 0 and expects_sources(record):
                recalls.append(recall(record["expected_sources"], ranked_evidence_docs(answer)[:5]))
    return stages, encodes, recalls


def encodes_alone(encoder: Encoder, records: list[dict[str, Any]], repeat: int = 1) -> list[float]:
    """Milliseconds of one encode of each question, in a loop of encodes only (after a warm-up).

    This is `encode_p50_ms`. Timed right after each answer instead (the first rounds did), the
    sentence-transformers encode read 85 to 500 ms against 9 to 11 ms alone: numpy's OpenBLAS worker
    threads, left spinning by the answer's matrix products, took the 2 cores from torch's threads. The
    bot now runs BLAS on one thread (`bot.embeddings.quiet_blas`), and the encode after an answer is
    still reported beside this one (`encode_after_answer_p50_ms`)."""
    for record in records[:20]:
        encoder.encode([record["question"]])
    times = []
    for _ in range(repeat):
        for record in records:
            started = time.perf_counter()
            encoder.encode([record["question"]])
            times.append((time.perf_counter() - started) * 1000)
    return times


def naive_baseline(
    embedder: Embedder, settings: Settings, records: list[dict[str, Any]], repeat: int
) -> dict[str, Any]:
    """The plain langchain recipe: whole files split by RecursiveCharacterTextSplitter(1000, 200), the same
    model, Chroma similarity search top 4 (Chroma's default space; the vectors are unit length)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    texts: list[str] = []
    sources: list[str] = []
    for document in load_corpus(settings.corpus.path):
        file = Path(document.path)  # relative to the corpus folder's parent
        file = file if file.is_absolute() else settings.corpus.path.parent / file
        for piece in splitter.split_text(file.read_text(encoding="utf-8")):
            texts.append(piece)
            sources.append(document.id)
    started = time.perf_counter()
    vectors = embedder.encode(texts)
    encode_seconds = time.perf_counter() - started
    client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.create_collection(f"naive-{os.getpid()}")
    for start in range(0, len(texts), 256):
        collection.add(
            ids=[str(i) for i in range(start, min(start + 256, len(texts)))],
            embeddings=vectors[start : start + 256],
            documents=texts[start : start + 256],
            metadatas=[{"source": s} for s in sources[start : start + 256]],
        )

    def search(question: str) -> list[str]:
        vector = embedder.encode([question])[0]
        found = collection.query(query_embeddings=[vector], n_results=4, include=["metadatas"])
        return [str(m["source"]) for m in found["metadatas"][0]]

    for record in records:  # warm-up
        search(record["question"])
    latencies: list[float] = []
    recalls: list[float] = []
    for round_number in range(repeat):
        for record in records:
            started = time.perf_counter()
            found = search(record["question"])
            latencies.append((time.perf_counter() - started) * 1000)
            if round_number == 0 and expects_sources(record):
                recalls.append(recall(record["expected_sources"], list(dict.fromkeys(found))))
    return {
        "chunks": len(texts),
        "encode_chunks_per_s": len(texts) / encode_seconds,
        "latencies": latencies,
        "recall5": statistics.fmean(recalls) if recalls else 0.0,
    }


RAW_CPU: dict[str, float] = {}  # CPU seconds of the raw encode of the chunk texts (--only-build's table)


def raw_encode_rate(embedder: Embedder, settings: Settings) -> tuple[float, float]:
    """SentenceTransformer.encode throughput on the built chunks: their texts alone, and everything a
    build embeds (chunk texts, their sentences, the investor questions), in chunks per second."""
    build = settings.index.path / "builds" / str(read_current(settings.index.path))
    rows = [json.loads(line) for line in (build / "chunks.jsonl").read_text().splitlines()]
    questions = [json.loads(line)["question"] for line in (build / "questions.jsonl").read_text().splitlines()]
    model = embedder.model
    started, cpu = time.perf_counter(), time.process_time()
    model.encode([r["embed_text"] for r in rows], batch_size=embedder.batch_size, normalize_embeddings=True)
    chunk_seconds = time.perf_counter() - started
    RAW_CPU["chunks"] = time.process_time() - cpu
    started = time.perf_counter()
    model.encode(
        [s for r in rows for s in r["sentences"]] + sorted(set(questions)),
        batch_size=embedder.batch_size,
        normalize_embeddings=True,
    )
    all_seconds = chunk_seconds + time.perf_counter() - started
    return len(rows) / chunk_seconds, len(rows) / all_seconds


def grow_index(settings: Settings, target: int, folder: Path, seed: int = 14) -> tuple[Settings, list[list[str]]]:
    """A copy of the current build grown to `target` chunks with synthetic filler documents.

    Filler chunks hold 120 terms drawn from the corpus's own term frequencies (so query terms hit
    them as often as real text would), and vectors that are a real chunk's plus noise (so they compete
    in the dense search); nothing is encoded, since the point is search cost, not encode cost. Returns
    the grown index's settings and the term lists of its chunks."""
    from bot.index import lexical_terms
    from bot.lexical import LexicalIndex
    from bot.types import Chunk

    rng = np.random.default_rng(seed)
    source = settings.index.path / "builds" / str(read_current(settings.index.path))
    grown_path = folder / "index"
    build = grown_path / "builds" / f"{source.name}-grown"
    build.mkdir(parents=True)
    for name in ("questions.jsonl", "question_vectors.npy"):
        shutil.copy(source / name, build / name)
    documents = json.loads((source / "documents.json").read_text())
    rows = [json.loads(line) for line in (source / "chunks.jsonl").read_text().splitlines()]
    chunk_vectors = np.load(source / "chunk_vectors.npy")
    sentence_vectors = np.load(source / "sentence_vectors.npy")
    real = load_corpus(settings.corpus.path)
    sections = {(d.id, s.anchor): s for d in real for s in d.sections}
    chunks = [Chunk(**{**r, "sentences": tuple(r["sentences"])}) for r in rows]
    real_terms = lexical_terms(chunks, sections)
    pool = np.array([t for chunk_terms in real_terms for t in chunk_terms])
    filler = max(0, target - len(rows))
    per_document = 100
    # Filler sections hold as many chunks as the real corpus's do (1 to 4, mostly 1): a retrieved chunk
    # brings its section's other chunks as candidates, and one 100-chunk section per filler document
    # (the first rounds) made the composer read 300 sentences for each filler chunk retrieved.
    section_sizes = np.array(list(Counter((r["doc_id"], r["section_anchor"]) for r in rows).values()))
    template = _doc_to_json(real[0])
    topics = sorted({t for d in real for t in d.topics})
    filler_terms: list[list[str]] = []
    with (build / "chunks.jsonl").open("w") as out:
        for r in rows:
            out.write(json.dumps(r) + "\n")
        for number in range(filler):
            doc_id = f"filler-{number // per_document:05d}"
            if number % per_document == 0:
                documents.append(
                    template
                    | {
                        "id": doc_id,
                        "title": f"Filler document {number // per_document}",
                        "jurisdiction": ("UK", "US", "INTL")[(number // per_document) % 3],
                        "publisher": "Filler",
                        "status": "in_force",
                        "published": "2020-01-01",
                        "effective": None,
                        "until": None,
                        "superseded_by": None,
                        "topics": [str(t) for t in rng.choice(topics, 2, replace=False)],
                        "sections": [
                            {
                                "heading": f"Filler {part}",
                                "locator": "",
                                "path": [f"Filler {part}"],
                                "anchor": f"filler-{part}",
                                "text": "",
                                "line": 1 + part,
                                "questions": [],
                                "status": None,
                            }
                            for part in range(per_document)
                        ],
                        "path": f"filler/{doc_id}.md",
                        "content_hash": doc_id,
                    }
                )
                sizes = rng.choice(section_sizes, per_document)  # sections as long as the real corpus's
                section_of = np.repeat(np.arange(per_document), sizes)[:per_document]
            words = pool[rng.integers(0, len(pool), 120)].tolist()
            filler_terms.append(words)
            sentences = [" ".join(words[:40]) + ".", " ".join(words[40:80]) + ".", " ".join(words[80:]) + "."]
            text = " ".join(sentences)
            part = int(section_of[number % per_document])
            chunk = {
                "id": f"{doc_id}#{number % per_document}",
                "doc_id": doc_id,
                "section_anchor": f"filler-{part}",
                "text": text,
                "sentences": sentences,
                "embed_text": f"Filler: {doc_id} > Filler {part}\n{text}",
                "n_tokens": 160,
            }
            out.write(json.dumps(chunk) + "\n")
    noise = rng.standard_normal((filler, chunk_vectors.shape[1]), dtype=np.float32)
    grown = chunk_vectors[rng.integers(0, len(chunk_vectors), filler)] + 0.05 * noise
    grown /= np.linalg.norm(grown, axis=1, keepdims=True)
    np.save(build / "chunk_vectors.npy", np.concatenate([chunk_vectors, grown]).astype(np.float32))
    extra = np.repeat(grown, 3, axis=0) + 0.05 * rng.standard_normal((3 * filler, grown.shape[1]), dtype=np.float32)
    extra /= np.linalg.norm(extra, axis=1, keepdims=True)
    np.save(build / "sentence_vectors.npy", np.concatenate([sentence_vectors, extra]).astype(np.float32))
    (build / "documents.json").write_text(json.dumps(documents))
    all_terms = real_terms + filler_terms
    LexicalIndex.build(all_terms).save(build)
    manifest = json.loads((source / "manifest.json").read_text())
    manifest |= {"build_id": build.name, "chunks": len(rows) + filler}
    (build / "manifest.json").write_text(json.dumps(manifest))
    (grown_path / "current").write_text(build.name)
    grown_settings = settings.model_copy(update={"index": settings.index.model_copy(update={"path": grown_path})})
    return grown_settings, all_terms


def rank_bm25_cost(term_lists: list[list[str]], records: list[dict[str, Any]]) -> tuple[float, float]:
    """What rank_bm25's BM25Okapi (the lexical step before this index) costs on the same chunks: build
    seconds and get_scores p50 ms over a few questions."""
    from rank_bm25 import BM25Okapi

    from bot.text import terms

    started = time.perf_counter()
    reference = BM25Okapi(term_lists)
    build_seconds = time.perf_counter() - started
    costs = []
    for record in records:
        started = time.perf_counter()
        reference.get_scores(terms(record["question"]))
        costs.append((time.perf_counter() - started) * 1000)
    return build_seconds, statistics.median(costs)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wall(command: list[str], env: dict[str, str]) -> float:
    """Seconds from process start to exit; a failure stops the benchmark with the process's output."""
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds


def rss_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def serve_cold(env: dict[str, str], records: list[dict[str, Any]]) -> tuple[float, float]:
    """Seconds from `bot serve` start to /readyz answering 200, and its peak RSS (MB) after answering."""
    import httpx

    port = free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below, after the process
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "bot"), "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise SystemExit(f"bot serve exited with {process.returncode}:\n{log.read().decode()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        ready = time.perf_counter() - started
        for record in records[:20]:
            httpx.post(f"http://127.0.0.1:{port}/v1/answers", json={"question": record["question"]}, timeout=60)
        return ready, rss_peak_mb(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def cli_env(settings: Settings) -> dict[str, str]:
    """The environment of a `bot` process on this run's index, corpus and query encoder."""
    return os.environ | {
        "PYTHONPATH": str(ROOT),  # this checkout's bot, whichever one the venv has installed
        "BOT_INDEX__PATH": str(settings.index.path),
        "BOT_CORPUS__PATH": str(settings.corpus.path.resolve()),
        "BOT_EMBEDDING__BACKEND": settings.embedding.backend,
    }


BOT = str(Path(sys.executable).parent / "bot")


def cold_start(settings: Settings, embedder: Embedder, runs: int, records: list[dict[str, Any]]) -> dict[str, float]:
    """The floor (import sentence-transformers, load the model, encode one query), `bot ask` to its answer
    and `bot serve` to /readyz, each in a fresh process, interleaved so that load on the machine hits all."""
    env = cli_env(settings)
    python = sys.executable
    bot_command = BOT
    floors: list[float] = []
    asks: list[float] = []
    ready: list[float] = []
    peaks: list[float] = []
    for _ in range(runs):
        floors.append(wall([python, "-c", FLOOR_SCRIPT, str(embedder.path)], env))
        asks.append(wall([bot_command, "ask", COLD_QUESTION], env))
        seconds, peak = serve_cold(env, records)
        ready.append(seconds)
        peaks.append(peak)
    return {
        "floor_s": statistics.median(floors),
        "cli_first_answer_s": statistics.median(asks),
        "readyz_s": statistics.median(ready),
        "peak_rss_mb": max(peaks),
    }


@contextmanager
def stage(name: str, say: Callable[[str], None]) -> Iterator[None]:
    started = time.perf_counter()
    say(f"[bench] {name}…")
    yield
    say(f"[bench] {name}: {time.perf_counter() - started:.1f} s")


def build_table(figures: dict[str, Any], extra: dict[str, Any]) -> list[str]:
    """The table of --only-build: a full build against raw encode in the same run."""
    return [
        f"machine: {extra['machine']['cores']} cores, load average {extra['machine']['load_average']} at the start, "
        f"{[round(x, 2) for x in os.getloadavg()]} at the end; "
        f"embedding.backend: {extra['backend']}",
        f"corpus: {extra['documents']} documents, {extra['chunks']} chunks",
        "",
        "| measure | figure | note |",
        "|---|---|---|",
        f"| full build | {figures['build_chunks_per_s']:.1f} chunks/s | {extra['build_seconds']:.1f} s; "
        f"{figures['build_chunks_per_s'] / figures['raw_encode_chunks_per_s']:.0%} of raw encode |",
        f"| raw encode of the chunk texts | {figures['raw_encode_chunks_per_s']:.1f} chunks/s | everything a "
        f"build embeds (chunks, sentences, questions): {extra['raw_encode_all_chunks_per_s']:.1f} chunks/s |",
        f"| CPU time: build / raw encode of the chunk texts / of everything | {extra['build_cpu_s']:.1f} s / "
        f"{RAW_CPU['chunks']:.1f} s / {extra['raw_encode_cpu_s']:.1f} s | user+system time of the process, "
        f"steadier than wall time under load: the build's is {RAW_CPU['chunks'] / extra['build_cpu_s']:.0%} "
        "of the raw chunk encode's throughput |",
    ]


def table(figures: dict[str, Any], extra: dict[str, Any]) -> list[str]:
    encode = figures["encode_p50_ms"]

    def ratio(value: float) -> str:
        return f"{value / encode:.2f}x encode" if encode else ""

    info = extra["machine"]
    lines = [
        f"machine: {info['cores']} cores, {info['cpu']}, load average {info['load_average']} at the start, "
        f"Python {info['python']}",
        f"corpus: {extra['documents']} documents, {extra['chunks']} chunks; {extra['questions']} development "
        f"questions x {extra['repeat']} (recall@5 over the {extra['recall_questions']} that expect sources)",
        "",
        "| measure | figure | note |",
        "|---|---|---|",
        f"| answer p50 (warm, in process, extractive) | {figures['answer_p50_ms']:.1f} ms | "
        f"{ratio(figures['answer_p50_ms'])} |",
        f"| answer p95 | {figures['answer_p95_ms']:.1f} ms | {ratio(figures['answer_p95_ms'])} |",
        f"| one query encode, model alone (p50) | {figures['encode_p50_ms']:.1f} ms | sentence-transformers, "
        "in a loop of encodes |",
    ]
    if "encode_after_answer_p50_ms" in extra:
        lines.append(
            f"| the same encode, timed right after each answer (p50) | {extra['encode_after_answer_p50_ms']:.1f} ms | |"
        )
    if "onnx_encode_p50_ms" in extra:
        lines.append(f"| one query encode, ONNX encoder (p50) | {extra['onnx_encode_p50_ms']:.1f} ms | onnxruntime |")
    for name in STAGES[:-1]:
        values = extra["stages"][name]
        lines.append(
            f"| stage {name} p50 / p95 | {statistics.median(values):.2f} / {percentile(values, 0.95):.2f} ms | |"
        )
    lines.append(f"| recall@5, ours | {figures['recall5']:.3f} | |")
    if figures["naive_p50_ms"]:
        lines += [
            f"| naive recipe p50 (encode + Chroma top 4) | {figures['naive_p50_ms']:.1f} ms | ours "
            f"{figures['answer_p50_ms'] / figures['naive_p50_ms']:.2f}x naive |",
            f"| recall@5, naive ({extra['naive_chunks']} chunks of 1000 characters) | "
            f"{figures['naive_recall5']:.3f} | ours {figures['recall5'] - figures['naive_recall5']:+.3f} |",
        ]
    if extra["build_seconds"]:
        lines += [
            f"| full build | {figures['build_chunks_per_s']:.1f} chunks/s | {extra['build_seconds']:.1f} s; "
            f"{figures['build_chunks_per_s'] / figures['raw_encode_chunks_per_s']:.0%} of raw encode |",
            f"| raw encode of the chunk texts | {figures['raw_encode_chunks_per_s']:.1f} chunks/s | everything a "
            f"build embeds (chunks, sentences, questions): {extra['raw_encode_all_chunks_per_s']:.1f} chunks/s |",
        ]
    lines += [
        f"| no-change re-index (`bot index`, fresh process) | {figures['noop_reindex_s']:.2f} s | in process, "
        f"model loaded: {extra['noop_reindex_in_process_s']:.2f} s |",
    ]
    if figures["scale_chunks"]:
        scale_p50, scale_p95 = figures["scale_answer_p50_ms"], figures["scale_answer_p95_ms"]
        lines += [
            f"| scale: chunks | {int(figures['scale_chunks']):,} | opened in {extra['scale_open_s']:.1f} s |",
            f"| scale: answer p50 | {scale_p50:.1f} ms | {ratio(scale_p50)} |",
            f"| scale: answer p95 | {scale_p95:.1f} ms | {ratio(scale_p95)} |",
            f"| scale: lexical step p50 | {figures['scale_lexical_p50_ms']:.1f} ms | "
            + (
                f"rank_bm25 on the same chunks: {extra['rank_bm25_p50_ms']:.0f} ms a scoring (of 1 to 3 per answer), "
                f"{extra['rank_bm25_build_s']:.0f} s to build |"
                if "rank_bm25_p50_ms" in extra
                else "|"
            ),
            f"| scale: dense step p50 | {figures['scale_dense_p50_ms']:.1f} ms | |",
        ]
    if figures["floor_s"]:
        lines += [
            f"| query encoder of `bot ask` and `bot serve` | {extra['backend']} | embedding.backend |",
            f"| floor: import, load, encode one query (cold process) | {figures['floor_s']:.2f} s | |",
            f"| `bot ask` to its answer (cold process) | {figures['cli_first_answer_s']:.2f} s | "
            f"{figures['cli_first_answer_s'] / figures['floor_s']:.2f}x floor |",
            f"| `bot serve` to /readyz | {figures['readyz_s']:.2f} s | {figures['readyz_s'] / figures['floor_s']:.2f}x "
            "floor |",
            f"| peak RSS while serving | {figures['peak_rss_mb']:.0f} MB | |",
        ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="Print one JSON object (the table goes to stderr).")
    parser.add_argument("--questions", type=Path, default=ROOT / "eval" / "questions")
    parser.add_argument("--limit", type=int, default=None, help="At most this many questions.")
    parser.add_argument("--repeat", type=int, default=2, help="Timed passes over the questions (after a warm-up).")
    parser.add_argument("--scale", type=int, default=100_000, help="Chunks in the scale test.")
    parser.add_argument("--scale-questions", type=int, default=100, help="Questions asked in the scale test.")
    parser.add_argument("--cold-runs", type=int, default=3, help="Cold processes of each kind (medians).")
    parser.add_argument(
        "--rank-bm25-questions", type=int, default=5, help="Questions scored by rank_bm25 at scale (0: skip)."
    )
    parser.add_argument("--index", type=Path, help="Use this built index (of corpus/) instead of building one.")
    parser.add_argument(
        "--backend",
        choices=["torch", "onnx"],
        help="Query encoder (embedding.backend) of the answers, `bot index`, `bot ask` and `bot serve` "
        "(default: the setting's).",
    )
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--skip-cold", action="store_true")
    parser.add_argument("--skip-naive", action="store_true", help="No naive langchain recipe (its keys stay 0).")
    parser.add_argument(
        "--only-build",
        action="store_true",
        help="Only the full build and the raw encode (build_chunks_per_s, raw_encode_chunks_per_s).",
    )
    args = parser.parse_args()
    out = sys.stderr if args.json else sys.stdout

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    extra: dict[str, Any] = {"machine": machine(), "repeat": args.repeat}
    records = records_from(args.questions, args.limit)
    figures: dict[str, Any] = dict.fromkeys(JSON_KEYS, 0.0)
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        settings = Settings(index={"path": Path(folder) / "index"}, corpus={"path": ROOT / "corpus"})  # type: ignore[arg-type]
        if args.backend:
            settings = settings.model_copy(
                update={"embedding": settings.embedding.model_copy(update={"backend": args.backend})}
            )
        extra["backend"] = settings.embedding.backend
        with stage("model load", say):
            embedder = shared_embedder(settings.embedding.model, settings.embedding.batch_size)
        if args.index:  # a quick run: an existing index, no build measured
            settings = settings.model_copy(update={"index": settings.index.model_copy(update={"path": args.index})})
            report = build_index(settings, embedder)
            extra |= {"documents": report.documents, "chunks": report.chunks, "build_seconds": 0.0}
            extra["raw_encode_all_chunks_per_s"] = 0.0
        else:
            cpu = time.process_time()
            with stage("full build", say):
                report = build_index(settings, embedder)
            extra["build_cpu_s"] = time.process_time() - cpu
            extra |= {"documents": report.documents, "chunks": report.chunks, "build_seconds": report.seconds}
            figures["build_chunks_per_s"] = report.chunks / report.seconds
            cpu = time.process_time()
            with stage("raw encode", say):
                figures["raw_encode_chunks_per_s"], extra["raw_encode_all_chunks_per_s"] = raw_encode_rate(
                    embedder, settings
                )
            extra["raw_encode_cpu_s"] = time.process_time() - cpu
            if args.only_build:
                print("\n".join(build_table(figures, extra)), file=out)
                if args.json:
                    print(
                        json.dumps(
                            {key: round(figures[key], 3) for key in ("build_chunks_per_s", "raw_encode_chunks_per_s")}
                        )
                    )
                return
        with stage("no-change re-index", say):
            extra["noop_reindex_in_process_s"] = build_index(settings, embedder).seconds
            figures["noop_reindex_s"] = statistics.median(
                wall([BOT, "index"], cli_env(settings)) for _ in range(max(args.cold_runs, 1))
            )
        with stage("warm answers", say):
            query = (
                OnnxEncoder(settings.embedding.model, ensure_onnx(settings, embedder))
                if extra["backend"] == "onnx"
                else embedder
            )
            bot = Bot(settings, query)
            stages, after_answers, recalls = timed_answers(bot, embedder, records, args.repeat)
            encodes = encodes_alone(embedder, records, args.repeat)
            extra["encode_after_answer_p50_ms"] = statistics.median(after_answers)
            if isinstance(query, OnnxEncoder):
                extra["onnx_encode_p50_ms"] = statistics.median(encodes_alone(query, records, args.repeat))
        extra |= {"stages": stages, "questions": len(records), "recall_questions": len(recalls)}
        figures |= {
            "answer_p50_ms": statistics.median(stages["total"]),
            "answer_p95_ms": percentile(stages["total"], 0.95),
            "encode_p50_ms": statistics.median(encodes),
            "recall5": statistics.fmean(recalls) if recalls else 0.0,
        }
        if not args.skip_naive:
            with stage("naive baseline", say):
                naive = naive_baseline(embedder, settings, records, args.repeat)
            figures |= {"naive_p50_ms": statistics.median(naive["latencies"]), "naive_recall5": naive["recall5"]}
            extra["naive_chunks"] = naive["chunks"]
        del bot
        if not args.skip_scale:
            with tempfile.TemporaryDirectory(prefix="bench-scale-") as scale_folder:
                with stage(f"scale: grow the index to {args.scale:,} chunks", say):
                    grown, term_lists = grow_index(settings, args.scale, Path(scale_folder))
                with stage("scale: open", say):
                    started = time.perf_counter()
                    big = Bot(grown, query)  # the query encoder the warm answers used (embedding.backend)
                    extra["scale_open_s"] = time.perf_counter() - started
                if len(big.index.chunks) < args.scale:
                    raise SystemExit(
                        f"bench: the grown index was not used ({len(big.index.chunks)} chunks opened, not "
                        f"{args.scale:,}): did corpus/ change during the run? Run the bench again."
                    )
                with stage("scale: answers", say):
                    big_stages, _, _ = timed_answers(big, embedder, records[: args.scale_questions], 1)
                figures |= {
                    "scale_chunks": len(big.index.chunks),
                    "scale_answer_p50_ms": statistics.median(big_stages["total"]),
                    "scale_answer_p95_ms": percentile(big_stages["total"], 0.95),
                    "scale_lexical_p50_ms": statistics.median(big_stages["bm25"]),
                    "scale_dense_p50_ms": statistics.median(big_stages["dense"]),
                }
                del big
                if args.rank_bm25_questions:
                    with stage("scale: rank_bm25 on the same chunks, for comparison", say):
                        extra["rank_bm25_build_s"], extra["rank_bm25_p50_ms"] = rank_bm25_cost(
                            term_lists, records[: args.rank_bm25_questions]
                        )
                del term_lists
        if not args.skip_cold:
            with stage("cold start", say):
                figures |= cold_start(settings, embedder, args.cold_runs, records)
    figures = {key: round(float(figures[key]), 3) for key in JSON_KEYS}
    extra["peak_rss_bench_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("\n".join(table(figures, extra)), file=out)
    print(f"command: {' '.join(['scripts/bench.py', *sys.argv[1:]])}", file=out)
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
