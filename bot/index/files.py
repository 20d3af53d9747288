"""A build's files: the chunks, documents, vectors, investor questions and lexical postings it writes
into its folder, and reading them back."""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.embeddings import Embedder
from bot.lexical import LexicalIndex
from bot.settings import Settings
from bot.text import terms
from bot.types import Chunk, Document, Section

log = logging.getLogger("bot.index")

ChunkVectors = dict[str, tuple[np.ndarray, np.ndarray]]  # chunk id -> (its vector, its sentences' vectors)
QuestionRow = tuple[str, str, str]  # doc id, section anchor, investor question


@dataclass(frozen=True)
class NewBuild:
    """A build being written: its folder (index.path/builds/<id>.partial), id, corpus version and
    documents, for the configured settings and model."""

    settings: Settings
    embedder: Embedder
    folder: Path
    build_id: str
    version: str
    documents: list[Document]


def _doc_to_json(document: Document) -> dict[str, Any]:
    return document.model_dump(mode="json")


def _doc_from_json(data: dict[str, Any]) -> Document:
    return Document.model_validate(data)  # older builds have no evidence_date or section questions: the defaults


def lexical_terms(chunks: list[Chunk], sections: dict[tuple[str, str], Section]) -> list[list[str]]:
    """What the lexical index reads of each chunk: its text and its section's investor questions, so
    investors' words match."""
    return [terms(c.embed_text + " " + " ".join(sections[(c.doc_id, c.section_anchor)].questions)) for c in chunks]


def write_questions(folder: Path, question_rows: list[QuestionRow], question_matrix: np.ndarray) -> None:
    """Write the investor questions ('Q:' lines) and their vectors."""
    np.save(folder / "question_vectors.npy", question_matrix)
    with (folder / "questions.jsonl").open("w") as out:
        for doc_id, anchor, question in question_rows:
            out.write(json.dumps({"doc_id": doc_id, "anchor": anchor, "question": question}) + "\n")


def write_chunks(folder: Path, documents: list[Document], chunks: list[Chunk], vectors: ChunkVectors) -> np.ndarray:
    """Write the chunks, their and their sentences' vectors, the documents and the lexical postings;
    return the chunk matrix (one row per chunk, in order)."""
    chunk_matrix = np.stack([vectors[c.id][0] for c in chunks]).astype(np.float32)
    sentence_matrix = np.concatenate([vectors[c.id][1] for c in chunks]).astype(np.float32)
    np.save(folder / "chunk_vectors.npy", chunk_matrix)
    np.save(folder / "sentence_vectors.npy", sentence_matrix)
    with (folder / "chunks.jsonl").open("w") as out:
        for chunk in chunks:
            out.write(json.dumps(dataclasses.asdict(chunk)) + "\n")
    (folder / "documents.json").write_text(json.dumps([_doc_to_json(d) for d in documents]))
    sections = {(d.id, s.anchor): s for d in documents for s in d.sections}
    LexicalIndex.build(lexical_terms(chunks, sections)).save(folder)
    return chunk_matrix


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
