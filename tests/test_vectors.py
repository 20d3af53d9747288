"""What a build embeds (bot/vectors.py): each distinct text once, rows back in order, and with the ONNX
backend the same vectors as sentence-transformers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.core import Bot
from bot.embeddings import MIN_COSINE, OnnxEncoder, shared_embedder
from bot.index import Index, build_index
from bot.settings import Settings
from bot.vectors import build_encoder, distinct, encode_groups, known_texts

from .conftest import FIXTURE_CORPUS, make_settings
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

    def encode_queries(self, texts: list[str]) -> list[np.ndarray]:
        return list(self.encode(texts))


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


def test_known_texts_are_not_encoded_again() -> None:
    encoder = RecordingEncoder()
    known = {"abc": np.array([9, 9], dtype=np.float32)}
    chunks, sentences = encode_groups(encoder, [["abc", "d"], ["d", "abc"]], known)
    assert encoder.sent == [["d"]]
    assert chunks.tolist() == [[9, 9], [1, ord("d")]]
    assert sentences.tolist() == [[1, ord("d")], [9, 9]]


def test_a_rebuild_after_an_edit_reuses_the_unchanged_sentences(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    settings = make_settings(corpus, tmp_path / "index")
    build_index(settings, shared_embedder())
    before = Index(settings, shared_embedder())
    known = known_texts({"vectors": dict(zip(before.chunks, _rows(before), strict=True))} | _no_questions(before))
    path = next(corpus.rglob("fscs-crypto-not-protected.md"))
    path.write_text(path.read_text().replace("## ", "## Added note (test locator)\n\nThe FSCS test note.\n\n## ", 1))
    build_index(settings, shared_embedder())
    after = Index(settings, shared_embedder())
    edited = [
        (c, v) for c, v in zip(after.chunks, _rows(after), strict=True) if c.doc_id == "fscs-crypto-not-protected"
    ]
    sentences = [(s, vector) for c, (_, vectors) in edited for s, vector in zip(c.sentences, vectors, strict=True)]
    assert any(s not in known for s, _ in sentences) and any(s in known for s, _ in sentences)
    for sentence, vector in sentences:
        if sentence in known:  # reused bit for bit
            assert np.array_equal(vector, known[sentence])
        else:
            assert float(vector @ shared_embedder().encode([sentence])[0]) >= MIN_COSINE


def _rows(index: Index) -> list[tuple[np.ndarray, np.ndarray]]:
    starts = index.sentence_start
    return [
        (index.chunk_vectors[i], index.sentence_vectors[starts[i] : starts[i + 1]]) for i in range(len(index.chunks))
    ]


def _no_questions(index: Index) -> dict[str, object]:
    return {"question_texts": [], "question_matrix": np.zeros((0, index.chunk_vectors.shape[1]), dtype=np.float32)}
