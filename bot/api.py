"""`bot serve`: the HTTP API under /v1, the embeddable widget and the Gradio web chat on one app.

`create_app(settings, bot=...)` builds the FastAPI app (tests pass their own bot and server
settings); `serve(settings)` runs it with uvicorn. Every error is JSON of one shape:
`{"error": {"code": ..., "message": ..., "request_id": ...}}`.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import json
import logging
import math
import os
import re
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from fastapi import Depends, FastAPI, Request  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.middleware.cors import CORSMiddleware  # noqa: E402
from fastapi.responses import JSONResponse, Response, StreamingResponse  # noqa: E402
from fastapi.routing import APIRoute  # noqa: E402
from fastapi.staticfiles import StaticFiles  # noqa: E402
from pydantic import BaseModel, ConfigDict, Field  # noqa: E402
from starlette.concurrency import run_in_threadpool  # noqa: E402
from starlette.exceptions import HTTPException as StarletteHTTPException  # noqa: E402

from bot.core import Bot, StreamEvent  # noqa: E402
from bot.errors import (  # noqa: E402
    BotError,
    CorpusError,
    IndexMismatchError,
    IndexMissingError,
    ModelLoadError,
    QuestionError,
    StoreUnavailableError,
)
from bot.prompts import NOTICE  # noqa: E402
from bot.settings import ServerSettings, Settings  # noqa: E402
from bot.types import Answer, Document  # noqa: E402

log = logging.getLogger("bot.api")
STATIC = Path(__file__).resolve().parent / "static"
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_MARKER = re.compile(r"\[(\d+)\]")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


# --------------------------------------------------------------------------- errors


class ApiError(Exception):
    """An error answered as JSON with a status, a stable code and a message that says what to do."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.details = details


def error_response(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    details: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message, "request_id": request_id_var.get()}
    if details:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


_BOT_ERROR_STATUS: dict[type[BotError], int] = {
    QuestionError: 422,
    StoreUnavailableError: 503,
    IndexMissingError: 503,
    IndexMismatchError: 503,
    ModelLoadError: 503,
    CorpusError: 503,
}
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    429: "rate_limited",
}


def bot_error_status(exc: BotError) -> int:
    for kind, status in _BOT_ERROR_STATUS.items():
        if isinstance(exc, kind):
            return status
    return 500


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers, exc.details)

    @app.exception_handler(BotError)
    async def _bot_error(_: Request, exc: BotError) -> JSONResponse:
        status = bot_error_status(exc)
        if status >= 500:
            log.error("%s: %s", exc.code, exc)
        return error_response(status, exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for item in exc.errors():
            where = ".".join(str(part) for part in item.get("loc", ()) if part != "body") or "body"
            problems.append(f"{where}: {item.get('msg', 'invalid')}")
        return error_response(
            422,
            "invalid_request",
            "The request is not valid: " + "; ".join(problems) + ".",
            details={"errors": problems},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = str(exc.detail)
        if exc.status_code == 404:
            message = "No such endpoint; see /docs for the API."
        return error_response(exc.status_code, code, message, dict(exc.headers or {}))


# --------------------------------------------------------------------------- ASGI middleware


class RequestIdMiddleware:
    """Gives every request an id (the client's X-Request-ID if sane), echoes it, logs the request,
    and turns an unexpected exception into the JSON error shape."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = {"code": 500, "sent": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["sent"] = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if not status["sent"]:
                response = error_response(
                    500,
                    "internal_error",
                    "Something went wrong on the server; quote the request id when reporting it.",
                )
                await response(scope, receive, send_with_id)
        finally:
            path = scope.get("path", "")
            if path.startswith(("/v1", "/healthz", "/readyz", "/widget.js")):
                log.info(
                    "%s %s -> %s in %.1f ms",
                    scope.get("method"),
                    path,
                    status["code"],
                    (time.perf_counter() - started) * 1000,
                )
            request_id_var.reset(token)


class BodyLimitMiddleware:
    """Reads /v1 request bodies up to a limit and answers 413 above it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> JSONResponse:
        return error_response(
            413,
            "payload_too_large",
            f"The request body is larger than {self.max_bytes} bytes; send a shorter question or less history.",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith("/v1"):
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._too_large()(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large()(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class RequestIdLogFilter(logging.Filter):
    """Adds `request_id` to every log record (for the log format of `bot serve`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


# ------------------------------------------------------------------ keys, sessions, rate limits


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key, a widget session or (when no keys are configured) an address."""

    kind: Literal["api_key", "session", "anonymous"]
    id: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Gate:
    """Checks secret API keys and widget session tokens; issues tokens for publishable keys."""

    def __init__(self, server: ServerSettings) -> None:
        self.key_hashes = frozenset(server.api_key_hashes)
        self.publishable = {
            key: frozenset(o.rstrip("/") for o in origins) for key, origins in server.publishable_keys.items()
        }
        secret = server.session_secret.get_secret_value() if server.session_secret else ""
        self.secret = secret.encode() if secret else secrets.token_bytes(32)
        self.ttl = server.session_ttl_seconds

    @property
    def required(self) -> bool:
        return bool(self.key_hashes or self.publishable)

    def issue(self, publishable_key: str, origin: str | None) -> tuple[str, int]:
        """A signed session token (and its expiry) for a publishable key used from its origin."""
        origins = self.publishable.get(publishable_key)
        if origins is None:
            raise ApiError(
                401,
                "invalid_publishable_key",
                "Unknown publishable key; copy the data-api-key value from the bot's operator.",
            )
        if not origin:
            raise ApiError(
                403,
                "origin_not_allowed",
                "A publishable key only works from a web page: the request has no Origin header.",
            )
        if origin.rstrip("/") not in origins:
            raise ApiError(
                403,
                "origin_not_allowed",
                f"This publishable key is not allowed on {origin}; the operator must add the "
                "origin to server.publishable_keys.",
            )
        expires = int(time.time()) + self.ttl
        payload = _b64(
            json.dumps(
                {
                    "k": publishable_key,
                    "o": origin.rstrip("/"),
                    "exp": expires,
                    "sid": secrets.token_hex(8),
                },
                separators=(",", ":"),
            ).encode()
        )
        return f"st_{payload}.{self._sign(payload)}", expires

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self.secret, payload.encode(), hashlib.sha256).digest())

    def _session(self, token: str, origin: str | None) -> Principal:
        payload, _, signature = token[3:].partition(".")
        if not payload or not hmac.compare_digest(signature, self._sign(payload)):
            raise ApiError(
                401,
                "invalid_session",
                "The session token is not valid; start a new session at POST /v1/sessions.",
                {"WWW-Authenticate": "Bearer"},
            )
        claims = json.loads(_unb64(payload))
        if claims["exp"] <= time.time():
            raise ApiError(
                401,
                "session_expired",
                "The session token has expired; start a new session at POST /v1/sessions.",
                {"WWW-Authenticate": "Bearer"},
            )
        allowed = self.publishable.get(claims["k"], frozenset())
        if claims["o"] not in allowed:
            raise ApiError(
                401,
                "invalid_session",
                "The session's publishable key or origin is no longer allowed.",
                {"WWW-Authenticate": "Bearer"},
            )
        if not origin or origin.rstrip("/") != claims["o"]:
            raise ApiError(
                403,
                "origin_not_allowed",
                "A widget session token only works from the page origin it was issued to.",
            )
        return Principal("session", f"session:{claims['sid']}")

    def authenticate(self, request: Request) -> Principal:
        credential = request.headers.get("x-api-key", "").strip()
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        if not credential and scheme.lower() == "bearer":
            credential = bearer.strip()
        origin = request.headers.get("origin")
        if credential.startswith("st_"):
            return self._session(credential, origin)
        if not self.required:
            return Principal("anonymous", f"ip:{request.client.host if request.client else '-'}")
        if not credential:
            raise ApiError(
                401,
                "missing_api_key",
                "This API needs a key: send it in the X-API-Key header or as 'Authorization: Bearer <key>'.",
                {"WWW-Authenticate": "Bearer"},
            )
        if credential in self.publishable:
            raise ApiError(
                401,
                "invalid_api_key",
                "A publishable key (pk_...) only starts widget sessions at "
                "POST /v1/sessions; use a secret key or a session token here.",
                {"WWW-Authenticate": "Bearer"},
            )
        digest = hashlib.sha256(credential.encode()).hexdigest()
        if not any(hmac.compare_digest(digest, known) for known in self.key_hashes):
            raise ApiError(401, "invalid_api_key", "The API key is not valid.", {"WWW-Authenticate": "Bearer"})
        return Principal("api_key", f"key:{digest[:12]}")


class RateLimiter:
    """A sliding-window request counter per caller."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        if self.limit <= 0:
            return
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                retry = max(1, math.ceil(hits[0] + self.window - now))
                raise ApiError(
                    429,
                    "rate_limited",
                    f"Too many requests: the limit is {self.limit} per {self.window:g} seconds; retry in {retry} s.",
                    {"Retry-After": str(retry)},
                )
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle callers
                for stale in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                    del self._hits[stale]


# --------------------------------------------------------------------------- bot loading, feedback


class BotHolder:
    """The bot, given or loaded in the background so that /healthz answers while the model loads."""

    def __init__(self, settings: Settings, bot: Bot | None = None) -> None:
        self.settings = settings
        self.bot = bot
        self.error: str | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.bot is None and self._thread is None:
            self._thread = threading.Thread(target=self._load, name="bot-loader", daemon=True)
            self._thread.start()

    def _load(self) -> None:
        try:
            self.bot = Bot(self.settings)
            log.info(
                "bot ready: index %s, corpus %s",
                self.bot.index.build_id,
                self.bot.index.corpus_version,
            )
        except Exception as exc:  # reported by /readyz and every /v1 call
            self.error = f"{exc.__class__.__name__}: {exc}"
            log.exception("the bot failed to load")

    def get(self) -> Bot:
        if self.bot is not None:
            return self.bot
        if self.error:
            raise ApiError(503, "not_ready", f"The bot failed to load: {self.error}")
        raise ApiError(
            503,
            "not_ready",
            "The bot is still loading its model and index; retry in a few seconds.",
            {"Retry-After": "5"},
        )


class FeedbackStore:
    """Appends thumbs up/down feedback to feedback_dir/feedback.jsonl."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "feedback.jsonl"
        self._lock = threading.Lock()

    def add(
        self,
        *,
        answer_id: str,
        question: str,
        rating: Literal["up", "down"],
        source: str,
        comment: str | None = None,
        caller: str | None = None,
    ) -> dict[str, Any]:
        record = {
            "id": uuid.uuid4().hex,
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "source": source,
            "answer_id": answer_id,
            "question": question,
            "rating": rating,
            "comment": comment,
            "caller": caller,
            "request_id": request_id_var.get(),
        }
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        return record


@functools.cache
def widget_source() -> str:
    """widget.js with the not-advice notice filled in."""
    return (STATIC / "widget.js").read_text(encoding="utf-8").replace("__NOTICE__", json.dumps(NOTICE))


def jurisdiction_param(value: str | None) -> list[str] | None:
    """UI choice -> Bot.ask jurisdictions: UK or US restricts; 'both' lets the question decide."""
    if not value:
        return None
    upper = value.strip().upper()
    return [upper] if upper in ("UK", "US") else None


# ------------------------------------------------------------------ request and response models


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChatTurn(_Strict):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)


class AnswerRequest(_Strict):
    question: str = Field(
        description="The question, in plain words (at most answer.max_question_chars).",
        examples=["I live in the UK and keep USDC on a US exchange; what protects me?"],
    )
    history: list[str | ChatTurn] = Field(
        default_factory=list,
        max_length=50,
        description="Earlier turns of the conversation, oldest first: questions as strings, or "
        "{role, content} messages. Follow-up questions use them for context.",
    )
    jurisdictions: list[Literal["UK", "US"]] | None = Field(
        None,
        description="Only these jurisdictions' sources; omit (or both) to let the question decide.",
    )
    as_of: dt.date | None = Field(None, description="Answer from the documents in force on this day (default today).")


class SessionRequest(_Strict):
    publishable_key: str = Field(max_length=200, description="The widget's publishable key (pk_...).")


class SessionResponse(BaseModel):
    token: str = Field(description="Send as 'Authorization: Bearer <token>' from the same origin.")
    token_type: Literal["Bearer"] = "Bearer"
    expires_at: dt.datetime
    expires_in: int = Field(description="Seconds until the token expires.")


class FeedbackRequest(_Strict):
    answer_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The `id` of the answer being rated.",
    )
    question: str = Field(min_length=1, max_length=4000, description="The question that was answered.")
    rating: Literal["up", "down"]
    comment: str | None = Field(None, max_length=2000, description="Optional words from the user.")


class FeedbackResponse(BaseModel):
    id: str
    stored: bool = True


class SectionInfo(BaseModel):
    heading: str
    locator: str
    anchor: str


class SourceSummary(BaseModel):
    id: str
    title: str
    jurisdiction: str
    publisher: str
    doc_type: str
    reference: str
    url: str
    status: str
    published: dt.date
    effective: dt.date | None
    until: dt.date | None
    reviewed: dt.date
    topics: list[str]


class SourceDetail(SourceSummary):
    superseded_by: str | None
    content_hash: str
    sections: list[SectionInfo]


class SourceList(BaseModel):
    corpus_version: str
    count: int
    sources: list[SourceSummary]


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. invalid_api_key, rate_limited.")
    message: str = Field(description="What went wrong and what to do next.")
    request_id: str
    details: dict[str, Any] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


def _summary(document: Document) -> dict[str, Any]:
    return {
        "id": document.id,
        "title": document.title,
        "jurisdiction": document.jurisdiction,
        "publisher": document.publisher,
        "doc_type": document.doc_type,
        "reference": document.reference,
        "url": document.url,
        "status": document.status,
        "published": document.published,
        "effective": document.effective,
        "until": document.until,
        "reviewed": document.reviewed,
        "topics": list(document.topics),
    }


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorResponse} for status in statuses}


def _sse(event: str, data: Any, event_id: int) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, default=str)
    return f"id: {event_id}\nevent: {event}\ndata: {text}\n\n".encode()


# --------------------------------------------------------------------------- the app


@dataclass
class Services:
    settings: Settings
    holder: BotHolder
    gate: Gate
    limiter: RateLimiter
    session_limiter: RateLimiter
    feedback: FeedbackStore


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]


async def caller(request: Request, services: ServicesDep) -> Principal:
    """Authenticate and rate-limit a /v1 call."""
    principal = services.gate.authenticate(request)
    services.limiter.check(principal.id)
    request.state.principal = principal
    return principal


CallerDep = Annotated[Principal, Depends(caller)]


def create_app(settings: Settings, bot: Bot | None = None, *, web_chat: bool | None = None) -> FastAPI:
    """The server: /v1 API, /healthz, /readyz, /widget.js, /embed/* and, optionally, the chat."""
    server = settings.server
    holder = BotHolder(settings, bot)
    services = Services(
        settings=settings,
        holder=holder,
        gate=Gate(server),
        limiter=RateLimiter(server.rate_limit, server.rate_limit_window_seconds),
        session_limiter=RateLimiter(server.rate_limit, server.rate_limit_window_seconds),
        feedback=FeedbackStore(server.feedback_dir),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        holder.start()
        yield

    app = FastAPI(
        title="UK/US crypto guidance bot API",
        version="1",
        description="Answers from official UK and US guidance on crypto-assets and stablecoins, "
        "with citations. Not personal financial, legal or tax advice. Authenticate with a secret "
        "key (`X-API-Key` or `Authorization: Bearer`) or a widget session token from "
        'POST /v1/sessions. Every error is `{"error": {"code", "message", "request_id"}}`.',
        lifespan=lifespan,
    )
    app.state.services = services
    _install_error_handlers(app)
    _add_routes(app)

    origins = sorted(set(server.cors_origins) | {o.rstrip("/") for v in server.publishable_keys.values() for o in v})
    app.add_middleware(BodyLimitMiddleware, max_bytes=server.max_body_bytes)
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
            max_age=600,
        )
    app.add_middleware(RequestIdMiddleware)

    if server.web_chat if web_chat is None else web_chat:
        from bot.web import mount_web_chat

        app = mount_web_chat(app, holder.get, services.feedback)
    return app


def _add_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"], summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        summary="Model and index loaded, vector store reachable",
        responses=_errors(503),
    )
    async def readyz(services: ServicesDep) -> dict[str, Any]:
        bot = services.holder.bot
        checks = {"model": False, "index": False, "store": False}
        if bot is not None:
            checks["model"] = bot.embedder is not None
            checks["index"] = bool(bot.index.chunks)
            checks["store"] = await run_in_threadpool(bot.index.ping)
        if not all(checks.values()):
            reason = services.holder.error or ("still loading" if bot is None else "a check failed")
            raise ApiError(503, "not_ready", f"Not ready: {reason}.", {"Retry-After": "5"}, {"checks": checks})
        assert bot is not None
        return {
            "status": "ready",
            "checks": checks,
            "index_build": bot.index.build_id,
            "corpus_version": bot.index.corpus_version,
            "documents": len(bot.index.documents),
            "stale": bot.stale_reason,
        }

    @app.get("/widget.js", include_in_schema=False)
    @app.get("/embed/widget.js", include_in_schema=False)  # not the raw template in the folder
    async def widget_js() -> Response:
        return Response(
            widget_source(),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=300"},
        )

    # Not /static or /assets: those paths belong to the Gradio front end mounted at /.
    app.mount("/embed", StaticFiles(directory=STATIC), name="embed")

    @app.post(
        "/v1/sessions",
        tags=["widget"],
        status_code=201,
        response_model=SessionResponse,
        summary="Trade a publishable key for a short-lived session token",
        responses=_errors(401, 403, 422, 429),
    )
    async def create_session(body: SessionRequest, request: Request, services: ServicesDep) -> SessionResponse:
        client = request.client.host if request.client else "-"
        services.session_limiter.check(f"pk:{body.publishable_key[:40]}|{client}")
        token, expires = services.gate.issue(body.publishable_key, request.headers.get("origin"))
        return SessionResponse(
            token=token,
            expires_at=dt.datetime.fromtimestamp(expires, dt.UTC),
            expires_in=max(0, expires - int(time.time())),
        )

    @app.post(
        "/v1/answers",
        tags=["answers"],
        response_model=Answer,
        summary="Answer a question, with citations",
        responses=_errors(401, 403, 413, 422, 429, 503),
    )
    async def answers(body: AnswerRequest, _: CallerDep, services: ServicesDep) -> Answer:
        return await _ask(services, body)

    @app.post(
        "/v1/answers/stream",
        tags=["answers"],
        summary="Answer as Server-Sent Events",
        responses={
            200: {
                "content": {"text/event-stream": {}},
                "description": "Events: `start` {question}; one `chunk` {index, text, citations} per line "
                "(a heading or one cited sentence; with an LLM backend, each sentence as soon as it has passed "
                "citation verification); `reset` {reason} if an LLM answer is abandoned for the extractive one "
                "(discard the chunks so far); then `answer` with the whole answer object, which is authoritative.",
            },
            **_errors(401, 403, 413, 422, 429, 503),
        },
    )
    async def answers_stream(body: AnswerRequest, _: CallerDep, services: ServicesDep) -> StreamingResponse:
        stream = _ask_stream(services, body)
        first = await run_in_threadpool(next, stream)  # a bad question fails here, as a plain HTTP error

        async def events() -> AsyncIterator[bytes]:
            yield _sse("start", {"question": body.question.strip()}, 0)
            number = 0
            event: StreamEvent | None = first
            while event is not None:
                number += 1
                if event.type == "line":
                    citations = [int(n) for n in _MARKER.findall(event.text)]
                    yield _sse("chunk", {"index": number - 1, "text": event.text, "citations": citations}, number)
                elif event.type == "reset":
                    yield _sse("reset", {"reason": event.text}, number)
                elif event.answer is not None:
                    yield _sse("answer", event.answer.model_dump_json(), number)
                try:
                    event = await run_in_threadpool(next, stream, None)
                except Exception as exc:  # the stream has started: report the error as an event
                    log.exception("answer stream failed")
                    message = str(exc) if isinstance(exc, BotError) else "The answer stopped; please try again."
                    yield _sse("error", {"error": {"code": "stream_failed", "message": message}}, number + 1)
                    return

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.get(
        "/v1/sources",
        tags=["sources"],
        response_model=SourceList,
        summary="The documents in the index",
        responses=_errors(401, 403, 429, 503),
    )
    async def sources(_: CallerDep, services: ServicesDep) -> SourceList:
        bot = services.holder.get()
        documents = bot.sources()
        return SourceList(
            corpus_version=bot.index.corpus_version,
            count=len(documents),
            sources=[SourceSummary(**_summary(d)) for d in documents],
        )

    @app.get(
        "/v1/sources/{source_id}",
        tags=["sources"],
        response_model=SourceDetail,
        summary="One document and its sections",
        responses=_errors(401, 403, 404, 429, 503),
    )
    async def source(source_id: str, _: CallerDep, services: ServicesDep) -> SourceDetail:
        document = services.holder.get().index.documents.get(source_id)
        if document is None:
            raise ApiError(
                404,
                "source_not_found",
                f"No source with id '{source_id}'; GET /v1/sources lists them.",
            )
        return SourceDetail(
            **_summary(document),
            superseded_by=document.superseded_by,
            content_hash=document.content_hash,
            sections=[SectionInfo(heading=s.heading, locator=s.locator, anchor=s.anchor) for s in document.sections],
        )

    @app.post(
        "/v1/feedback",
        tags=["feedback"],
        status_code=201,
        response_model=FeedbackResponse,
        summary="Store a thumbs up or down for an answer",
        responses=_errors(401, 403, 413, 422, 429),
    )
    async def feedback(body: FeedbackRequest, principal: CallerDep, services: ServicesDep) -> FeedbackResponse:
        record = await run_in_threadpool(
            lambda: services.feedback.add(
                answer_id=body.answer_id,
                question=body.question,
                rating=body.rating,
                comment=body.comment,
                source="api",
                caller=principal.id,
            )
        )
        return FeedbackResponse(id=record["id"])

    @app.api_route(
        "/v1/{rest:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
    )
    async def unknown(request: Request, rest: str) -> Response:
        path = f"/v1/{rest}"
        allowed = sorted(
            {
                method
                for route in app.routes
                if isinstance(route, APIRoute) and route.include_in_schema and route.path_regex.match(path)
                for method in route.methods or ()
            }
        )
        if allowed:
            raise ApiError(
                405,
                "method_not_allowed",
                f"{path} does not accept {request.method}; use {' or '.join(allowed)}.",
                {"Allow": ", ".join(allowed)},
            )
        raise ApiError(404, "not_found", f"No endpoint {path}; see /docs for the API.")


def _ask_stream(services: Services, body: AnswerRequest) -> Iterator[StreamEvent]:
    bot = services.holder.get()
    history = [turn if isinstance(turn, str) else turn.model_dump() for turn in body.history]
    return bot.ask_stream(
        body.question,
        history or None,
        list(body.jurisdictions) if body.jurisdictions else None,
        body.as_of,
    )


async def _ask(services: Services, body: AnswerRequest) -> Answer:
    bot = services.holder.get()
    history = [turn if isinstance(turn, str) else turn.model_dump() for turn in body.history]
    answer: Answer = await run_in_threadpool(
        bot.ask,
        body.question,
        history or None,
        list(body.jurisdictions) if body.jurisdictions else None,
        body.as_of,
    )
    return answer


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Run the app with uvicorn (the `bot serve` command)."""
    import uvicorn

    handler = logging.StreamHandler()
    handler.addFilter(RequestIdLogFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    api_log = logging.getLogger("bot")
    api_log.addHandler(handler)
    api_log.setLevel(logging.INFO)
    api_log.propagate = False
    host = host or settings.server.host
    port = port or settings.server.port
    app = create_app(settings)
    log.info("serving on http://%s:%s (web chat at /, API docs at /docs)", host, port)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
