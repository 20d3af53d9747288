"""Build (incrementally, atomically) and open the index: Chroma vectors, BM25 postings, sentence vectors."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot import artifacts
from bot.chroma import chroma_client, release_embedded
from bot.chunking import chunk_document
from bot.corpus import corpus_files, corpus_version, load_corpus
from bot.embeddings import ChromaEmbeddingFunction, Embedder, Encoder, ensure_onnx, model_fingerprint, onnx_file
from bot.errors import BotError, IndexMismatchError, IndexMissingError, ModelLoadError, StoreUnavailableError
from bot.lexical import LexicalIndex
from bot.pointer import current_build, prunable, read_file, reading, switch_to
from bot.settings import Settings
from bot.text import terms
from bot.types import Chunk, Document, Section
from bot.vectors import build_encoder, encode_groups, known_texts

log = logging.getLogger(__name__)

FAR_FUTURE = 99991231


def _ord(day: dt.date | None, default: int) -> int:
    return default if day is None else day.year * 10000 + day.month * 100 + day.day


def collection_name(settings: Settings, build_id: str) -> str:
    return f"{settings.index.collection_prefix}-{build_id}"


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


def _doc_to_json(document: Document) -> dict[str, Any]:
    return document.model_dump(mode="json")


def _doc_from_json(data: dict[str, Any]) -> Document:
    return Document.model_validate(data)  # older builds have no evidence_date or section questions: the defaults


def lexical_terms(chunks: list[Chunk], sections: dict[tuple[str, str], Section]) -> list[list[str]]:
    """What the lexical index reads of each chunk: its text and its section's investor questions, so
    investors' words match."""
    return [terms(c.embed_text + " " + " ".join(sections[(c.doc_id, c.section_anchor)].questions)) for c in chunks]


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


def build_index(
    settings: Settings,
    embedder: Embedder,
    today: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
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
    index_path = settings.index.path
    (index_path / "builds").mkdir(parents=True, exist_ok=True)

    previous_id = current_build(settings)
    previous = _read_build(index_path / "builds" / previous_id) if previous_id else None
    damage = None
    if previous is not None and previous_id:
        damage = _store_problem(settings, previous_id, previous["manifest"], len(previous["chunks"]))
        if damage:
            say(f"the vector store of build {previous_id} is damaged ({damage}); building a new index")
    if (
        previous is not None
        and not damage
        and _compatible(previous["manifest"], embedder, settings)
        and previous["manifest"]["corpus_version"] == version
    ):
        say(f"index is up to date (build {previous_id}, corpus {version})")
        if files is not None and previous["manifest"].get("files") != files and previous_id:
            _record_files(index_path / "builds" / previous_id, previous["manifest"], files)
        if settings.embedding.backend == "onnx":
            ensure_onnx(settings, embedder, say)
        return BuildReport(
            previous_id or "",
            version,
            len(documents),
            len(previous["chunks"]),
            0,
            len(previous["chunks"]),
            time.perf_counter() - started,
            True,
        )

    build_id = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S%f") + "-" + version[:8]
    partial = index_path / "builds" / f"{build_id}.partial"
    final = index_path / "builds" / build_id
    partial.mkdir(parents=True)
    try:
        chunks: list[Chunk] = []
        for document in documents:
            chunks.extend(chunk_document(document, embedder.count_tokens, settings.embedding.max_chunk_tokens))
        reuse: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if previous is not None and _compatible(previous["manifest"], embedder, settings):
            same = {d.id for d in documents if previous["manifest"]["documents"].get(d.id) == d.content_hash}
            reuse = {c.id: v for c, v in previous["vectors"].items() if c.doc_id in same}
        todo = [c for c in chunks if c.id not in reuse]
        say(f"{len(documents)} documents, {len(chunks)} chunks: embedding {len(todo)}, reusing {len(reuse)}")
        # Every distinct text (chunk, sentence, investor question) is embedded once; a rebuild reuses the
        # vectors of texts the previous build embedded.
        question_rows = [(d.id, sec.anchor, q) for d in documents for sec in d.sections for q in sec.questions]
        questions = sorted({q for _, _, q in question_rows})
        new_chunk_vectors, new_sentence_vectors, question_vectors = encode_groups(
            build_encoder(settings, embedder, say),
            [[c.embed_text for c in todo], [s for c in todo for s in c.sentences], questions],
            known_texts(previous if previous and _compatible(previous["manifest"], embedder, settings) else None),
        )
        known_questions = dict(zip(questions, question_vectors, strict=True))
        vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
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
        np.save(partial / "question_vectors.npy", question_matrix)
        with (partial / "questions.jsonl").open("w") as out:
            for doc_id, anchor, question in question_rows:
                out.write(json.dumps({"doc_id": doc_id, "anchor": anchor, "question": question}) + "\n")

        by_id = {d.id: d for d in documents}
        chunk_matrix = np.stack([vectors[c.id][0] for c in chunks]).astype(np.float32)
        sentence_matrix = np.concatenate([vectors[c.id][1] for c in chunks]).astype(np.float32)
        np.save(partial / "chunk_vectors.npy", chunk_matrix)
        np.save(partial / "sentence_vectors.npy", sentence_matrix)
        with (partial / "chunks.jsonl").open("w") as out:
            for chunk in chunks:
                out.write(json.dumps(dataclasses.asdict(chunk)) + "\n")
        (partial / "documents.json").write_text(json.dumps([_doc_to_json(d) for d in documents]))
        sections = {(d.id, s.anchor): s for d in documents for s in d.sections}
        LexicalIndex.build(lexical_terms(chunks, sections)).save(partial)

        client = chroma_client(settings, partial)
        collection = client.create_collection(
            name=collection_name(settings, build_id),
            embedding_function=ChromaEmbeddingFunction(embedder),  # never Chroma's default model
            metadata={"hnsw:space": "cosine", "corpus_version": version},
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
        if not settings.index.chroma_url:
            release_embedded(partial)  # its files move with the folder; servers open the final one
        manifest = {
            "build_id": build_id,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "model": embedder.name,
            "model_fingerprint": embedder.fingerprint,
            "max_chunk_tokens": settings.embedding.max_chunk_tokens,
            "corpus_version": version,
            "documents": {d.id: d.content_hash for d in documents},
            "files": files,
            "chunks": len(chunks),
            "chroma_url": settings.index.chroma_url,
            "collection": collection_name(settings, build_id),
        }
        (partial / "manifest.json").write_text(json.dumps(manifest, indent=2))
        artifacts.upload_build(settings, build_id, partial)  # Chroma server: for replicas on other hosts
        os.replace(partial, final)
        switch_to(settings, build_id)  # once the collection is complete: the pointer every replica reads
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    _prune(settings, keep=settings.index.keep_builds)
    if settings.embedding.backend == "onnx":
        ensure_onnx(settings, embedder, say)
    say(f"built index {build_id} (corpus {version}) in {time.perf_counter() - started:.1f}s")
    return BuildReport(
        build_id,
        version,
        len(documents),
        len(chunks),
        len(todo),
        len(chunks) - len(todo),
        time.perf_counter() - started,
        False,
    )


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


def _compatible(manifest: dict[str, Any], embedder: Encoder, settings: Settings) -> bool:
    return (
        manifest.get("model_fingerprint") == embedder.fingerprint
        and manifest.get("max_chunk_tokens") == settings.embedding.max_chunk_tokens
        and manifest.get("chroma_url") == settings.index.chroma_url
    )


def _read_build(build_dir: Path) -> dict[str, Any] | None:
    """Read a finished build's files; None if it is missing or incomplete."""
    try:
        manifest = json.loads((build_dir / "manifest.json").read_text())
        chunk_rows = [json.loads(line) for line in (build_dir / "chunks.jsonl").read_text().splitlines()]
        chunk_matrix = np.load(build_dir / "chunk_vectors.npy")
        sentence_matrix = np.load(build_dir / "sentence_vectors.npy")
        documents = [_doc_from_json(d) for d in json.loads((build_dir / "documents.json").read_text())]
    except (OSError, ValueError, KeyError) as exc:
        log.warning("ignoring unreadable index build %s: %s", build_dir, exc)
        return None
    try:  # builds made before investor questions were indexed have none
        question_rows = [json.loads(line) for line in (build_dir / "questions.jsonl").read_text().splitlines()]
        question_matrix = np.load(build_dir / "question_vectors.npy")
    except (OSError, ValueError):
        question_rows, question_matrix = [], np.zeros((0, chunk_matrix.shape[1]), dtype=np.float32)
    chunks = [Chunk(**{**row, "sentences": tuple(row["sentences"])}) for row in chunk_rows]
    vectors: dict[Chunk, tuple[np.ndarray, np.ndarray]] = {}
    offset = 0
    for row, chunk in enumerate(chunks):
        n = len(chunk.sentences)
        vectors[chunk] = (chunk_matrix[row], sentence_matrix[offset : offset + n])
        offset += n
    return {
        "manifest": manifest,
        "chunks": chunks,
        "vectors": vectors,
        "documents": documents,
        "chunk_matrix": chunk_matrix,
        "sentence_matrix": sentence_matrix,
        "question_rows": [(q["doc_id"], q["anchor"]) for q in question_rows],
        "question_texts": [q["question"] for q in question_rows],
        "question_matrix": question_matrix,
    }


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
    for stale in builds.glob("*.partial"):
        if time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)


class SentenceTerms:
    """The term sets of each chunk's sentences (sentence_terms[row][position]), worked out the first time
    a chunk is read rather than for the whole corpus when the index opens."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self._chunks = chunks
        self._known: dict[int, list[set[str]]] = {}

    def __getitem__(self, row: int) -> list[set[str]]:
        found = self._known.get(row)
        if found is None:
            found = self._known[row] = [set(terms(s)) for s in self._chunks[row].sentences]
        return found

    def __len__(self) -> int:
        return len(self._chunks)


class Index:
    """A finished index build, opened for querying."""

    def __init__(self, settings: Settings, embedder: Encoder) -> None:
        build_id = current_build(settings)
        if not build_id:
            raise IndexMissingError(f"No index in {settings.index.path}; build it with `bot index` (or `make run`).")
        artifacts.ensure_local(settings, build_id)  # Chroma server: downloaded when index.path lacks it
        build = _read_build(settings.index.path / "builds" / build_id)
        if build is None:
            raise IndexMissingError(
                f"The index build {build_id} in {settings.index.path} is unreadable; rebuild it with `bot index`."
            )
        manifest = build["manifest"]
        if manifest["model_fingerprint"] != embedder.fingerprint:
            raise IndexMismatchError(
                f"The index was built with embedding model '{manifest['model']}' "
                f"({manifest['model_fingerprint']}), not the configured '{embedder.name}' "
                f"({embedder.fingerprint}); rebuild it with `bot index`."
            )
        if manifest.get("chroma_url") != settings.index.chroma_url:
            raise IndexMismatchError(
                f"The index was built for Chroma at {manifest.get('chroma_url') or 'embedded'}, not "
                f"{settings.index.chroma_url or 'embedded'}; rebuild it with `bot index`."
            )
        self.settings = settings
        self.build_id = build_id
        self.manifest = manifest
        self.corpus_version: str = manifest["corpus_version"]
        self.documents: dict[str, Document] = {d.id: d for d in build["documents"]}
        self.chunks: list[Chunk] = build["chunks"]
        self.chunk_position = {c.id: i for i, c in enumerate(self.chunks)}
        document_position = {doc_id: i for i, doc_id in enumerate(self.documents)}
        # The position in self.documents of each chunk's document, so filters by document are array lookups.
        self.chunk_document = np.array([document_position[c.doc_id] for c in self.chunks], dtype=np.int64)
        self.chunk_vectors: np.ndarray = build["chunk_matrix"]
        self.sentence_vectors: np.ndarray = build["sentence_matrix"]
        starts = np.cumsum([0] + [len(c.sentences) for c in self.chunks])
        self.sentence_start = starts  # sentence rows of chunk i: starts[i]:starts[i+1]
        self.sections: dict[tuple[str, str], Section] = {
            (d.id, s.anchor): s for d in self.documents.values() for s in d.sections
        }
        # Investor questions: one row per 'Q:' line, and the chunk rows of the section each belongs to.
        self.question_vectors: np.ndarray = build["question_matrix"]
        self.question_sections: list[tuple[str, str]] = build["question_rows"]
        rows_of_section: dict[tuple[str, str], list[int]] = {}
        for row, chunk in enumerate(self.chunks):
            rows_of_section.setdefault((chunk.doc_id, chunk.section_anchor), []).append(row)
        self.section_rows = rows_of_section
        self.sentence_terms = SentenceTerms(self.chunks)
        build_dir = settings.index.path / "builds" / build_id
        saved = LexicalIndex.load(build_dir)  # builds made before the postings were saved rebuild them
        self.lexical = saved if saved is not None else LexicalIndex.build(lexical_terms(self.chunks, self.sections))
        self.jurisdiction_rows: dict[str, np.ndarray] = {}
        for jurisdiction in ("UK", "US", "INTL"):
            self.jurisdiction_rows[jurisdiction] = np.array(
                [i for i, c in enumerate(self.chunks) if self.documents[c.doc_id].jurisdiction == jurisdiction],
                dtype=int,
            )
        self.embedder = embedder
        self.build_dir = settings.index.path / "builds" / build_id
        self.remote = bool(settings.index.chroma_url)
        self._store: tuple[Any, Any] | None = None
        if self.remote:
            self._open_store()  # a Chroma server without this build's collection fails at start-up, not mid-answer
        reading(self)  # named by this replica's lease while it is open

    @property
    def client(self) -> Any:
        """The Chroma client of this build (embedded, opened on first use)."""
        return self._open_store()[0]

    @property
    def collection(self) -> Any:
        """The Chroma collection of this build (embedded, opened on first use: queries search the vectors
        in memory, so `bot ask` never imports chromadb)."""
        return self._open_store()[1]

    def _open_store(self) -> tuple[Any, Any]:
        if self._store is None:
            try:
                client = chroma_client(self.settings, self.build_dir)
            except StoreUnavailableError:
                raise
            except Exception as exc:  # e.g. "database disk image is malformed"
                raise IndexMissingError(
                    f"The vector store in {self.build_dir / 'chroma'} cannot be opened "
                    f"({exc.__class__.__name__}: {exc}); rebuild it with `bot index`."
                ) from exc
            try:
                collection = client.get_collection(
                    self.manifest["collection"], embedding_function=ChromaEmbeddingFunction(self.embedder)
                )
            except Exception as exc:
                if self.remote:
                    raise StoreUnavailableError(
                        f"The Chroma server at {self.settings.index.chroma_url} has no collection "
                        f"{self.manifest['collection']}; rebuild the index with `bot index`."
                    ) from exc
                raise IndexMissingError(
                    f"The index build {self.build_id} has no vector store; rebuild it with `bot index`."
                ) from exc
            self._store = (client, collection)
        return self._store

    def dense(
        self, vector: np.ndarray, k: int, rows: np.ndarray, where: dict[str, Any], similarities: np.ndarray
    ) -> list[tuple[int, float]]:
        """Chunk rows (among rows) and cosine similarities, best first: from the Chroma server when there
        is one, else an exact search of the chunk vectors in memory (similarities: of every chunk)."""
        if self.remote:
            return self.chroma_dense(vector, k, where)
        return top_rows(similarities, rows, k)

    def chroma_dense(self, vector: np.ndarray, k: int, where: dict[str, Any]) -> list[tuple[int, float]]:
        """Chunk rows and cosine similarities, best first, from the Chroma collection."""
        try:
            result = self.collection.query(query_embeddings=[vector], n_results=k, where=where, include=["distances"])
        except Exception as exc:
            if self.remote:
                raise StoreUnavailableError(
                    f"The Chroma server at {self.settings.index.chroma_url} stopped answering "
                    f"({exc.__class__.__name__}); check that `chroma run` is up."
                ) from exc
            raise
        ids = result["ids"][0]
        distances = result["distances"][0] if result.get("distances") else [1.0] * len(ids)
        return [(self.chunk_position[i], 1.0 - float(d)) for i, d in zip(ids, distances, strict=False)]

    def ping(self) -> bool:
        """True when the vector store answers (embedded, the vectors are in memory)."""
        if not self.remote:
            return True
        try:
            self.client.heartbeat()
            return True
        except Exception:
            return False

    def problem(self) -> str | None:
        """Why the vector store cannot serve this build (None when it can): the store is away, or its
        collection is gone or holds the wrong number of chunks (a Chroma server restarted empty)."""
        where = self.settings.index.chroma_url or "the embedded store"
        try:
            self.client.heartbeat()
        except IndexMissingError as exc:
            return str(exc).rstrip(".")
        except Exception as exc:
            return f"the vector store at {where} does not answer ({exc.__class__.__name__})"
        try:
            count = self.collection.count()
        except Exception as exc:
            return (
                f"the collection {self.manifest['collection']} is missing from {where} "
                f"({exc.__class__.__name__}); rebuild it with `bot index`"
            )
        if count != len(self.chunks):
            return (
                f"the collection {self.manifest['collection']} holds {count} chunks, not {len(self.chunks)}; "
                "rebuild it with `bot index`"
            )
        return None

    def close(self) -> None:
        """Release the embedded store's files of a build that is no longer served."""
        if not self.settings.index.chroma_url:
            release_embedded(self.build_dir)


def top_rows(similarities: np.ndarray, rows: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The k rows (among rows) of highest similarity, best first; ties by row."""
    scores = similarities[rows]
    best = np.argpartition(-scores, k - 1)[:k] if k < len(rows) else np.arange(len(rows))
    order = best[np.lexsort((rows[best], -scores[best]))]
    return [(int(rows[i]), float(scores[i])) for i in order]
