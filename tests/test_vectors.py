"""What a build embeds (bot/vectors.py): each distinct text once, rows back in order, and with the ONNX
backend the same vectors as sentence-transformers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bot.core import Bot
from bot.embeddings import MIN_COSINE, OnnxEncoder, shared_embedder
from bot.settings import Settings
from bot.vectors import build_encoder, distinct, encode_groups

from .test_onnx import development_questions


@pytest.mark.parametrize(
    ("groups", "texts", "rows"),
    [
        ([], [], []),
        ([[], ["a"]], ["a"], [[], [0]]),
        ([["a", "b"], ["c"]], ["a", "b", "c"], [[0, 1], [2]]),
        ([["a", "b", "a"], ["b", "c"], ["a"]], ["a", "b", "c"], [[0, 1, 0], [1, 2], [0]]),
        ([["x"], ["x"], ["x"]], ["x"], [[0], [0], [0]]),
    ],
)
def test_distinct_keeps_first_seen_order_and_each_rows_text(
    groups: list[list[str]], texts: list[str], rows: list[list[int]]
) -> None:
    found, positions = distinct(groups)
    assert found == texts
    assert [p.tolist() for p in positions] == rows
    assert [[found[r] for r in p] for p in positions] == groups


class RecordingEncoder:
    """Encodes a text as [its length, its first character's code], and records what it was sent."""

    name = "recording"
    fingerprint = "recording"
    dimension = 2

    def __init__(self) -> None:
        self.sent: list[list[str]] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.sent.append(list(texts))
        return np.array([[len(t), ord(t[0])] for t in texts], dtype=np.float32).reshape(len(texts), 2)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def test_encode_groups_encodes_each_distinct_text_once_in_one_call() -> None:
    encoder = RecordingEncoder()
    chunks, sentences, questions = encode_groups(encoder, [["abc", "d"], ["d", "ef", "abc"], []])
    assert encoder.sent == [["abc", "d", "ef"]]
    assert chunks.tolist() == [[3, ord("a")], [1, ord("d")]]
    assert sentences.tolist() == [[1, ord("d")], [2, ord("e")], [3, ord("a")]]
    assert questions.shape == (0, 2)


def test_the_build_encoder_follows_the_backend(fixture_settings: Settings) -> None:
    torch = fixture_settings.model_copy(
        update={"embedding": fixture_settings.embedding.model_copy(update={"backend": "torch"})}
    )
    assert build_encoder(torch, shared_embedder()) is shared_embedder()
    assert isinstance(build_encoder(fixture_settings, shared_embedder()), OnnxEncoder)


def test_onnx_build_vectors_match_sentence_transformers(fixture_bot: Bot, fixture_settings: Settings) -> None:
    """The fixture index is built with the ONNX encoder (the default backend): its chunk, sentence and
    investor-question vectors are sentence-transformers' to cosine >= MIN_COSINE."""
    assert fixture_settings.embedding.backend == "onnx"
    index = fixture_bot.index
    model = shared_embedder()
    lines = (index.build_dir / "questions.jsonl").read_text().splitlines()
    questions = development_questions()  # the fixture corpus has no 'Q:' lines: questions of the same kind
    texts_and_vectors = {
        "chunks": ([c.embed_text for c in index.chunks], index.chunk_vectors),
        "sentences": ([s for c in index.chunks for s in c.sentences], index.sentence_vectors),
        "investor questions": ([json.loads(line)["question"] for line in lines], index.question_vectors),
        "questions": (questions, build_encoder(fixture_settings, model).encode(questions)),
    }
    for kind, (texts, stored) in texts_and_vectors.items():
        if not texts:
            continue
        similarity = np.einsum("ij,ij->i", stored, model.encode(texts))
        worst = int(similarity.argmin())
        assert similarity.min() >= MIN_COSINE, f"{kind}: cosine {similarity.min():.6f} for {texts[worst][:80]!r}"


def test_token_counts_are_transformers_counts(fixture_bot: Bot) -> None:
    """Chunking counts word pieces with tokenizer.json directly; the counts, and so the chunks, are the
    ones transformers' tokenizer gives."""
    model = shared_embedder()
    texts = [c.embed_text for c in fixture_bot.index.chunks] + [
        s for c in fixture_bot.index.chunks for s in c.sentences
    ]
    texts += ["", "  spaces  ", "Café naïve résumé", "暗号資産 crypto", "x" * 3000, "£800 — 100%; U.S.-UK"]
    counted = [len(model.tokenizer(t, add_special_tokens=True, truncation=False)["input_ids"]) for t in texts]
    assert [model.count_tokens(t) for t in texts] == counted
