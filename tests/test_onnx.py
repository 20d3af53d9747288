"""The ONNX query encoder (embedding.backend=onnx): the same vectors as sentence-transformers, without torch.

The whole corpus and every development question are compared by `scripts/check_onnx.py`; this checks the
fixture corpus's chunks and a sample of the development questions on every run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.core import Bot
from bot.embeddings import MIN_COSINE, OnnxEncoder, _QueryCache, cosines, ensure_onnx, onnx_file, shared_embedder
from bot.errors import ModelLoadError
from bot.settings import Settings

from .conftest import ROOT, make_settings

QUESTIONS = sorted((ROOT / "eval" / "questions").glob("*.jsonl"))


def development_questions(every: int = 8) -> list[str]:
    """Every eighth development question (about 50), long and short ones alike."""
    texts = [json.loads(line)["question"] for path in QUESTIONS for line in path.read_text().splitlines() if line]
    return texts[::every]


@pytest.fixture(scope="module")
def encoder(fixture_bot: Bot, fixture_settings: Settings) -> OnnxEncoder:
    return OnnxEncoder(fixture_settings.embedding.model, ensure_onnx(fixture_settings, shared_embedder()))


def test_the_export_is_cached_in_the_index_folder_by_model(fixture_settings: Settings, encoder: OnnxEncoder) -> None:
    assert encoder.file == onnx_file(fixture_settings)
    assert encoder.file.parent == fixture_settings.index.path / "encoders"
    assert encoder.fingerprint == shared_embedder().fingerprint  # the index's model check holds


def test_onnx_vectors_match_sentence_transformers(fixture_bot: Bot, encoder: OnnxEncoder) -> None:
    chunks = [c.embed_text for c in fixture_bot.index.chunks]
    texts = chunks + development_questions() + ["", "  spaces around  ", "x" * 3000]  # empty, padded, truncated
    similarity = cosines(encoder, shared_embedder(), texts)
    worst = int(similarity.argmin())
    assert similarity.min() >= MIN_COSINE, f"cosine {similarity.min():.6f} for {texts[worst][:80]!r}"
    # One text alone and in a padded batch give the same vector.
    assert abs(float(encoder.encode_query(chunks[0]) @ encoder.encode(chunks[:5])[0]) - 1) < 1e-5


def test_a_bot_on_the_onnx_backend_answers_as_the_torch_one(
    fixture_bot: Bot, fixture_settings: Settings, encoder: OnnxEncoder
) -> None:
    onnx = fixture_settings.model_copy(
        update={"embedding": fixture_settings.embedding.model_copy(update={"backend": "onnx"})}
    )
    bot = Bot(onnx)
    assert isinstance(bot.embedder, OnnxEncoder)
    for question in ("Is crypto on a failed exchange protected by the FSCS?", "Does SIPC cover crypto?"):
        assert bot.ask(question).answer == fixture_bot.ask(question).answer


def test_an_unreadable_export_names_the_fix(tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match="bot index"):
        OnnxEncoder(make_settings(tmp_path, tmp_path).embedding.model, broken)


def test_a_batch_of_queries_gives_each_query_its_own_vector(encoder: OnnxEncoder) -> None:
    """The question, its search wording and its parts are embedded in one call (padded to the longest):
    each vector is the one the query gets alone."""
    texts = development_questions(40)[:4] + ["Is USDC covered?"]
    encoder.forget_queries()
    together = encoder.encode_queries(texts)
    for text, vector in zip(texts, together, strict=True):
        assert float(vector @ encoder.encode([text])[0]) > 0.99999


class _Counting(_QueryCache):
    """Encodes a text as [its length, 1] and records what it was sent."""

    QUERIES_KEPT = 3

    def __init__(self) -> None:
        self.sent: list[list[str]] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.sent.append(list(texts))
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32).reshape(len(texts), 2)


def test_queries_not_remembered_are_embedded_in_one_call_and_remembered() -> None:
    encoder = _Counting()
    vectors = encoder.encode_queries(["ab", "c", "ab"])
    assert encoder.sent == [["ab", "c"]]
    assert [v.tolist() for v in vectors] == [[2, 1], [1, 1], [2, 1]]
    assert encoder.encode_query("c").tolist() == [1, 1]
    assert encoder.sent == [["ab", "c"]]  # remembered
    encoder.encode_queries(["c", "def"])
    assert encoder.sent[-1] == ["def"]
    encoder.encode_queries(["ghij"])  # four remembered, three kept: "ab" (least recently used) goes
    encoder.encode_query("ab")
    assert encoder.sent[-1] == ["ab"]
    encoder.forget_queries()
    encoder.encode_query("c")
    assert encoder.sent[-1] == ["c"]


def test_an_answer_embeds_its_question_and_parts_in_one_call(fixture_bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[list[str]] = []
    original = fixture_bot.embedder.encode

    def recording(texts: list[str]) -> np.ndarray:
        sent.append(list(texts))
        return original(texts)

    monkeypatch.setattr(fixture_bot.embedder, "encode", recording)
    fixture_bot.embedder.forget_queries()
    question = "Is my USDC on a US exchange protected if the exchange fails? And how is it taxed in the UK?"
    fixture_bot.ask(question)
    assert sent and question in sent[0] and len(sent[0]) >= 3  # the question and its two parts, at least
    assert len(sent) == 1


def test_numpy_blas_runs_on_one_thread_once_a_bot_is_open(fixture_bot: Bot) -> None:
    from threadpoolctl import threadpool_info

    # numpy's OpenBLAS (the answers' matrix products); scipy's, loaded later by sentence-transformers'
    # imports, does no work when answering
    fixture_bot.__class__(fixture_bot.settings, fixture_bot.embedder, index=fixture_bot.index)
    numpy_blas = [info for info in threadpool_info() if info["user_api"] == "blas" and "numpy" in info["filepath"]]
    assert numpy_blas and all(info["num_threads"] == 1 for info in numpy_blas)
