"""What an index build embeds, encoded in one pass: each distinct text once, with the build's encoder.

A build embeds chunks, their sentences and the investor questions ('Q:' lines). With
embedding.backend=onnx it encodes them with the ONNX export of the model (the query encoder's graph,
checked against sentence-transformers when exported) on every core, in length-sorted batches; with
torch, with sentence-transformers as before.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.embeddings import Embedder, Encoder, OnnxEncoder, ensure_onnx

if TYPE_CHECKING:
    from bot.settings import Settings

BUILD_BATCH = 32  # texts per ONNX batch at build time (length-sorted, so padding is small)


def distinct(groups: Sequence[Sequence[str]]) -> tuple[list[str], list[np.ndarray]]:
    """The distinct texts of all groups in first-seen order, and for each group the row of each of its
    texts in that list."""
    rows: dict[str, int] = {}
    positions = [np.array([rows.setdefault(text, len(rows)) for text in group], dtype=np.int64) for group in groups]
    return list(rows), positions


def encode_groups(
    encoder: Encoder, groups: Sequence[Sequence[str]], known: Mapping[str, np.ndarray] | None = None
) -> list[np.ndarray]:
    """One matrix per group of texts (a row per text, in order): each distinct text encoded once, unless
    known already holds its vector."""
    texts, positions = distinct(groups)
    known = known or {}
    missing = [text for text in texts if text not in known]
    fresh = encoder.encode(missing)
    if len(missing) == len(texts):
        vectors = fresh
    else:
        found = dict(zip(missing, fresh, strict=True))
        vectors = np.stack([known[t] if t in known else found[t] for t in texts]).astype(np.float32, copy=False)
    return [vectors[rows] for rows in positions]


def known_texts(build: Mapping[str, Any] | None) -> dict[str, np.ndarray]:
    """The vector of every text a previous build embedded (chunk texts, sentences, investor questions), so
    that a rebuild after an edit encodes only the texts that changed."""
    if build is None:
        return {}
    known = dict(zip(build["question_texts"], build["question_matrix"], strict=True))
    for chunk, (chunk_vector, sentence_vectors) in build["vectors"].items():
        known[chunk.embed_text] = chunk_vector
        known.update(zip(chunk.sentences, sentence_vectors, strict=True))
    return known


def build_encoder(settings: Settings, embedder: Embedder, say: Callable[[str], None] | None = None) -> Encoder:
    """The encoder an index build embeds with: the ONNX export of the model on every core when
    embedding.backend is onnx (exported first if needed), else the sentence-transformers model."""
    if settings.embedding.backend != "onnx":
        return embedder
    file = ensure_onnx(settings, embedder, say)
    return OnnxEncoder(embedder.name, file, embedder.path, batch_size=BUILD_BATCH, threads=os.cpu_count())
