"""The ONNX query encoder (embedding.backend=onnx): the same vectors as sentence-transformers, without torch.

The whole corpus and every development question are compared by `scripts/check_onnx.py`; this checks the
fixture corpus's chunks and a sample of the development questions on every run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core import Bot
from bot.embeddings import MIN_COSINE, OnnxEncoder, cosines, ensure_onnx, onnx_file, shared_embedder
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
