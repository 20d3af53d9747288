"""Build an index: read the corpus, chunk it, embed what is new, write the build's files and its
Chroma collection, then switch to it atomically."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bot import artifacts
from bot.chunking import chunk_document
from bot.corpus import corpus_version, load_corpus
from bot.embeddings import Embedder, ensure_onnx
from bot.pointer import current_build, switch_to
from bot.settings import Settings
from bot.types import Chunk, Document
from bot.vectors import build_encoder, encode_groups, known_texts

from .files import ChunkVectors, NewBuild, QuestionRow, _read_build, write_chunks, write_questions
from .manifest import BuildReport, _compatible, _record_files, corpus_hashes, up_to_date, write_manifest
from .store import _prune, _store_problem, fill_collection

log = logging.getLogger("bot.index")

Say = Callable[[str], None]


def build_index(
    settings: Settings,
    embedder: Embedder,
    today: dt.date | None = None,
    progress: Say | None = None,
) -> BuildReport:
    """Validate the corpus and build a new index; switch to it only once it is complete."""
    started = time.perf_counter()
    say = progress or (lambda message: log.info(message))
    quick = up_to_date(settings, progress)
    if quick is not None:
        return quick
    files = corpus_hashes(settings.corpus.path)  # before reading the documents: a file edited meanwhile is
    documents = load_corpus(settings.corpus.path, today)  # seen as changed next time, never as indexed
    version = corpus_version(documents)
    (settings.index.path / "builds").mkdir(parents=True, exist_ok=True)
    previous_id, previous, damage = _previous_build(settings, say)
    compatible = previous if previous is not None and _compatible(previous["manifest"], embedder, settings) else None
    if compatible is not None and not damage and compatible["manifest"]["corpus_version"] == version:
        return _keep_previous(settings, embedder, previous_id, compatible, files, len(documents), started, say)
    build_id = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S%f") + "-" + version[:8]
    partial = settings.index.path / "builds" / f"{build_id}.partial"
    partial.mkdir(parents=True)
    try:
        build = NewBuild(settings, embedder, partial, build_id, version, documents)
        chunks, embedded = _write_build(build, files, compatible, say)
        artifacts.upload_build(settings, build_id, partial)  # Chroma server: for replicas on other hosts
        os.replace(partial, settings.index.path / "builds" / build_id)
        switch_to(settings, build_id)  # once the collection is complete: the pointer every replica reads
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    _prune(settings, keep=settings.index.keep_builds)
    if settings.embedding.backend == "onnx":
        ensure_onnx(settings, embedder, say)
    say(f"built index {build_id} (corpus {version}) in {time.perf_counter() - started:.1f}s")
    seconds = time.perf_counter() - started
    return BuildReport(build_id, version, len(documents), chunks, embedded, chunks - embedded, seconds, False)


def _previous_build(settings: Settings, say: Say) -> tuple[str | None, dict[str, Any] | None, str | None]:
    """The current build's id, its files (None when there is none or they are unreadable) and what is
    damaged in its vector store (None when it is sound)."""
    previous_id = current_build(settings)
    previous = _read_build(settings.index.path / "builds" / previous_id) if previous_id else None
    damage = None
    if previous is not None and previous_id:
        damage = _store_problem(settings, previous_id, previous["manifest"], len(previous["chunks"]))
        if damage:
            say(f"the vector store of build {previous_id} is damaged ({damage}); building a new index")
    return previous_id, previous, damage


def _keep_previous(
    settings: Settings,
    embedder: Embedder,
    previous_id: str | None,
    previous: dict[str, Any],
    files: dict[str, str] | None,
    documents: int,
    started: float,
    say: Say,
) -> BuildReport:
    """Keep the current build, which already indexes this corpus (recording the files' hashes it lacks)."""
    version = previous["manifest"]["corpus_version"]
    say(f"index is up to date (build {previous_id}, corpus {version})")
    if files is not None and previous["manifest"].get("files") != files and previous_id:
        _record_files(settings.index.path / "builds" / previous_id, previous["manifest"], files)
    if settings.embedding.backend == "onnx":
        ensure_onnx(settings, embedder, say)
    chunks = len(previous["chunks"])
    return BuildReport(previous_id or "", version, documents, chunks, 0, chunks, time.perf_counter() - started, True)


def _write_build(
    build: NewBuild, files: dict[str, str] | None, previous: dict[str, Any] | None, say: Say
) -> tuple[int, int]:
    """Chunk, embed (reusing a compatible previous build's vectors) and write every file of a build into
    its folder, the manifest last; return how many chunks it has and how many were embedded."""
    settings, embedder, documents = build.settings, build.embedder, build.documents
    chunks: list[Chunk] = []
    for document in documents:
        chunks.extend(chunk_document(document, embedder.count_tokens, settings.embedding.max_chunk_tokens))
    reuse = _reusable_vectors(previous, documents)
    todo = [c for c in chunks if c.id not in reuse]
    say(f"{len(documents)} documents, {len(chunks)} chunks: embedding {len(todo)}, reusing {len(reuse)}")
    question_rows = [(d.id, sec.anchor, q) for d in documents for sec in d.sections for q in sec.questions]
    vectors, question_matrix = _embed(settings, embedder, chunks, todo, reuse, question_rows, previous, say)
    write_questions(build.folder, question_rows, question_matrix)
    chunk_matrix = write_chunks(build.folder, documents, chunks, vectors)
    fill_collection(build, chunks, chunk_matrix)
    write_manifest(build, files, len(chunks))
    return len(chunks), len(todo)


def _reusable_vectors(previous: dict[str, Any] | None, documents: list[Document]) -> ChunkVectors:
    """The vectors of a compatible previous build's chunks whose documents are unchanged, by chunk id."""
    if previous is None:
        return {}
    same = {d.id for d in documents if previous["manifest"]["documents"].get(d.id) == d.content_hash}
    return {c.id: v for c, v in previous["vectors"].items() if c.doc_id in same}


def _embed(
    settings: Settings,
    embedder: Embedder,
    chunks: list[Chunk],
    todo: list[Chunk],
    reuse: ChunkVectors,
    question_rows: list[QuestionRow],
    previous: dict[str, Any] | None,
    say: Say,
) -> tuple[ChunkVectors, np.ndarray]:
    """The vectors of every chunk and its sentences, and the investor questions' matrix."""
    # Every distinct text (chunk, sentence, investor question) is embedded once; a rebuild reuses the
    # vectors of texts the previous build embedded.
    questions = sorted({q for _, _, q in question_rows})
    new_chunk_vectors, new_sentence_vectors, question_vectors = encode_groups(
        build_encoder(settings, embedder, say),
        [[c.embed_text for c in todo], [s for c in todo for s in c.sentences], questions],
        known_texts(previous),
    )
    known_questions = dict(zip(questions, question_vectors, strict=True))
    vectors: ChunkVectors = {}
    offset = 0
    for row, chunk in enumerate(todo):
        n = len(chunk.sentences)
        vectors[chunk.id] = (new_chunk_vectors[row], new_sentence_vectors[offset : offset + n])
        offset += n
    for chunk in chunks:
        if chunk.id in reuse:
            vectors[chunk.id] = reuse[chunk.id]
    dimension = len(next(iter(vectors.values()))[0]) if vectors else 0
    question_matrix = (
        np.stack([known_questions[q] for _, _, q in question_rows]).astype(np.float32)
        if question_rows
        else np.zeros((0, dimension), dtype=np.float32)
    )
    return vectors, question_matrix
