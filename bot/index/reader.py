"""Open the current index build for querying: its chunks, vectors, lexical postings and Chroma collection."""

from __future__ import annotations

from typing import Any

import numpy as np

from bot import artifacts
from bot.chroma import chroma_client, release_embedded
from bot.embeddings import ChromaEmbeddingFunction, Encoder
from bot.errors import IndexMismatchError, IndexMissingError, StoreUnavailableError
from bot.lexical import LexicalIndex
from bot.pointer import current_build, reading
from bot.settings import Settings
from bot.text import terms
from bot.types import Chunk, Document, Section

from .files import _read_build, lexical_terms


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
        build_id, build = _open_build(settings, embedder)
        manifest = build["manifest"]
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
        self.section_rows = _section_rows(self.chunks)
        self.sentence_terms = SentenceTerms(self.chunks)
        self.build_dir = settings.index.path / "builds" / build_id
        saved = LexicalIndex.load(self.build_dir)  # builds made before the postings were saved rebuild them
        self.lexical = saved if saved is not None else LexicalIndex.build(lexical_terms(self.chunks, self.sections))
        self.jurisdiction_rows = _jurisdiction_rows(self.chunks, self.documents)
        self.embedder = embedder
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


def _open_build(settings: Settings, embedder: Encoder) -> tuple[str, dict[str, Any]]:
    """The current build's id and files, checked against the configured model and store."""
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
    return build_id, build


def _section_rows(chunks: list[Chunk]) -> dict[tuple[str, str], list[int]]:
    """The chunk rows of each section, by (doc id, section anchor)."""
    rows_of_section: dict[tuple[str, str], list[int]] = {}
    for row, chunk in enumerate(chunks):
        rows_of_section.setdefault((chunk.doc_id, chunk.section_anchor), []).append(row)
    return rows_of_section


def _jurisdiction_rows(chunks: list[Chunk], documents: dict[str, Document]) -> dict[str, np.ndarray]:
    """The chunk rows of each jurisdiction's documents (UK, US, INTL)."""
    return {
        jurisdiction: np.array(
            [i for i, c in enumerate(chunks) if documents[c.doc_id].jurisdiction == jurisdiction], dtype=int
        )
        for jurisdiction in ("UK", "US", "INTL")
    }
