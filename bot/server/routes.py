"""The routes of the HTTP API: health, the widget script, sessions, answers (plain and SSE),
sources and feedback. Each route is a module-level function on `router`; errors are raised as
ApiError or BotError and turned into the one JSON error shape by bot.server.errors."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from fastapi.sse import EventSourceResponse, format_sse_event
from starlette.concurrency import run_in_threadpool

from bot.core import StreamEvent
from bot.errors import BotError
from bot.prompts import NOTICE
from bot.server.deps import CallerDep, Services, ServicesDep
from bot.server.errors import ApiError
from bot.server.schemas import (
    AnswerRequest,
    ErrorResponse,
    FeedbackRequest,
    FeedbackResponse,
    SessionRequest,
    SessionResponse,
    SourceDetail,
    SourceList,
)
from bot.types import Answer

log = logging.getLogger("bot.server")
STATIC = Path(__file__).resolve().parent.parent / "static"
_MARKER = re.compile(r"\[(\d+)\]")
router = APIRouter()


@functools.cache
def widget_source() -> str:
    """widget.js with the not-advice notice filled in."""
    return (STATIC / "widget.js").read_text(encoding="utf-8").replace("__NOTICE__", json.dumps(NOTICE))


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error responses a route documents (400: a body that is not UTF-8 JSON)."""
    return {status: {"model": ErrorResponse} for status in statuses}


def _sse(event: str, data: Any, event_id: int) -> bytes:
    """One event in FastAPI's SSE framing; a str is data already serialised as JSON."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, default=str)
    return format_sse_event(data_str=text, event=event, id=str(event_id))


@router.get("/healthz", tags=["health"], summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    tags=["health"],
    summary="Model and index loaded, vector store reachable",
    responses=_errors(503),
)
async def readyz(services: ServicesDep) -> dict[str, Any]:
    bot = services.holder.bot
    checks = {"model": False, "index": False, "store": False}
    problem: str | None = None
    if bot is not None:
        checks["model"] = bot.embedder is not None
        checks["index"] = bool(bot.index.chunks)
        problem = await run_in_threadpool(bot.index.problem)
        checks["store"] = problem is None
    if not all(checks.values()):
        reason = services.holder.error or ("still loading" if bot is None else problem or "a check failed")
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


@router.get("/widget.js", include_in_schema=False)
@router.get("/embed/widget.js", include_in_schema=False)  # not the raw template in the folder
async def widget_js() -> Response:
    return Response(
        widget_source(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.post(
    "/v1/sessions",
    tags=["widget"],
    status_code=201,
    response_model=SessionResponse,
    summary="Trade a publishable key for a short-lived session token",
    responses=_errors(400, 401, 403, 413, 422, 429),
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


@router.post(
    "/v1/answers",
    tags=["answers"],
    response_model=Answer,
    summary="Answer a question, with citations",
    responses=_errors(400, 401, 403, 413, 422, 429, 503),
)
async def answers(body: AnswerRequest, request: Request, principal: CallerDep, services: ServicesDep) -> Answer:
    async with services.admission.slot():
        answer = await _ask(services, body, request)
    await run_in_threadpool(services.store.record, answer, surface="api", caller=principal.id)
    return answer


@router.get(
    "/v1/answers/{answer_id}",
    tags=["answers"],
    response_model=Answer,
    summary="An answer exactly as it was served (from the audit log; its question redacted)",
    responses=_errors(401, 403, 404, 429, 503),
)
async def served_answer(answer_id: str, _: CallerDep, services: ServicesDep) -> Answer:
    stored = await run_in_threadpool(services.store.answer, answer_id)
    if stored is None:
        raise ApiError(
            404,
            "unknown_answer",
            f"No answer with id '{answer_id}' in the audit log (it may be older than store.retention_days).",
        )
    return Answer.model_validate(stored)


@router.post(
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
        **_errors(400, 401, 403, 413, 422, 429, 503),
    },
)
async def answers_stream(body: AnswerRequest, principal: CallerDep, services: ServicesDep) -> EventSourceResponse:
    # The answer slot is held until the stream ends; when the client goes away, Starlette stops the
    # stream and the slot is released (the rest of the answer is never computed). The response is
    # returned, not yielded by this route, so that a bad question is a plain HTTP error before the
    # stream starts and the stream stops at once on a disconnect (no keep-alive pings).
    held = AsyncExitStack()
    await held.enter_async_context(services.admission.slot())
    try:
        stream = _ask_stream(services, body)
        first = await run_in_threadpool(next, stream)  # a bad question fails here, as a plain HTTP error
    except BaseException:
        await held.aclose()
        raise

    async def events() -> AsyncIterator[bytes]:
        async with held:
            async for chunk in _events(first):
                yield chunk

    async def _events(first: StreamEvent | None) -> AsyncIterator[bytes]:
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
                await run_in_threadpool(services.store.record, event.answer, surface="stream", caller=principal.id)
                yield _sse("answer", event.answer.model_dump_json(), number)
            try:
                event = await run_in_threadpool(next, stream, None)
            except Exception as exc:  # the stream has started: report the error as an event
                log.exception("answer stream failed")
                message = str(exc) if isinstance(exc, BotError) else "The answer stopped; please try again."
                yield _sse("error", {"error": {"code": "stream_failed", "message": message}}, number + 1)
                return

    return EventSourceResponse(
        events(),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get(
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
        sources=[d.info() for d in documents],
    )


@router.get(
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
    return SourceDetail.of(document)


@router.post(
    "/v1/feedback",
    tags=["feedback"],
    status_code=201,
    response_model=FeedbackResponse,
    summary="Store a thumbs up or down for an answer that this service served",
    responses=_errors(400, 401, 403, 404, 413, 422, 429, 503),
)
async def feedback(body: FeedbackRequest, principal: CallerDep, services: ServicesDep) -> FeedbackResponse:
    record = await run_in_threadpool(
        lambda: services.store.add(
            answer_id=body.answer_id,
            rating=body.rating,
            comment=body.comment,
            source="api",
            caller=principal.id,
        )
    )
    return FeedbackResponse(id=record["id"])


@router.api_route(
    "/v1/{rest:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def unknown(request: Request, rest: str) -> Response:
    path = f"/v1/{rest}"
    allowed = sorted(
        {
            method
            for route in router.routes
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


async def _ask(services: Services, body: AnswerRequest, request: Request) -> Answer:
    """The answer, computed step by step (Bot.ask_stream) in a worker thread, so that it can stop between
    steps: when server.answer_timeout_seconds has passed (503 with Retry-After) or when the client has gone
    away. A step already running finishes in its thread; no further step starts."""
    stream = _ask_stream(services, body)
    limit = services.settings.server.answer_timeout_seconds
    deadline = time.monotonic() + limit
    pending: asyncio.Future[StreamEvent | None] | None = None
    try:
        while True:
            if await request.is_disconnected():
                raise _client_gone()
            pending = asyncio.ensure_future(run_in_threadpool(next, stream, None))
            while not pending.done():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ApiError(
                        503,
                        "answer_timeout",
                        f"The answer took longer than {limit:g} s (server.answer_timeout_seconds); retry in a "
                        "few seconds.",
                        {"Retry-After": "5"},
                    )
                await asyncio.wait({pending}, timeout=min(remaining, _DISCONNECT_POLL_SECONDS))
                if not pending.done() and await request.is_disconnected():
                    raise _client_gone()
            event = pending.result()
            pending = None
            if event is None:
                raise AssertionError("ask_stream ended without an answer")  # pragma: no cover
            if event.answer is not None:
                return event.answer
    finally:
        _stop(stream, pending)


_DISCONNECT_POLL_SECONDS = 0.5


def _client_gone() -> ApiError:
    log.info("client went away; the answer stops at its next step")
    return ApiError(499, "client_closed", "The client closed the connection before the answer.")


def _stop(stream: Iterator[StreamEvent], pending: asyncio.Future[Any] | None) -> None:
    """Close the answer's generator, after the step running in its thread (if any) has finished."""

    def close(_: object = None) -> None:
        close_method = getattr(stream, "close", None)
        if close_method is not None:
            with contextlib.suppress(ValueError):  # "generator already executing": cannot happen here
                close_method()

    if pending is None or pending.done():
        close()
    else:
        pending.add_done_callback(close)
