"""ASGI middleware: request ids (asgi-correlation-id) and request logging, the /v1 body-size limit,
and CORS that says in the log why it refused a browser's preflight.

The body-size limit stays hand-written: Starlette's RequestBodyLimitMiddleware answers a plain-text
413, not the JSON error shape with its code, what to do and the request id.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers

from bot.server.errors import ApiError, error_response, request_id
from bot.server.limits import RateLimiter

log = logging.getLogger("bot.server")


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def request_ids(app: ASGIApp) -> ASGIApp:
    """Give every request an id (the client's X-Request-ID if sane, else a new uuid4 hex), echo it in
    the response's X-Request-ID, and log each request with it."""
    return CorrelationIdMiddleware(
        RequestLogMiddleware(app),
        header_name="X-Request-ID",
        generator=lambda: uuid.uuid4().hex,
        validator=lambda given: _REQUEST_ID.match(given) is not None,
    )


class RequestLogMiddleware:
    """Logs the request and turns an unexpected exception into the JSON error shape (inside
    request_ids, so the error carries the request id). Hand-written: asgi-correlation-id only sets the
    id, and Starlette's ServerErrorMiddleware answers 500 in plain text."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500, "sent": False}

        async def send_with_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["sent"] = True
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if not status["sent"]:
                response = error_response(
                    500,
                    "internal_error",
                    "Something went wrong on the server; quote the request id when reporting it.",
                )
                await response(scope, receive, send_with_status)
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


class BodyLimitMiddleware:
    """Reads /v1 request bodies up to a limit and answers 413 above it.

    Hand-written: Starlette's RequestBodyLimitMiddleware answers 413 in plain text, not the error shape."""

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
        record.request_id = request_id()
        return True


class LoggedCORSMiddleware(CORSMiddleware):
    """CORSMiddleware that logs a refused preflight with the origin and the reason: the browser only
    tells the page that the request failed, and the request log alone showed `OPTIONS ... -> 400`."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code >= 400:
            origin = request_headers.get("origin", "(none)")
            reason = bytes(response.body).decode("utf-8", "replace")
            hint = ""
            if "origin" in reason:
                hint = (
                    f"; to allow it, add {origin} to server.cors_origins or to a publishable key's origins "
                    "(server.publishable_keys); http://localhost and http://127.0.0.1 are different origins"
                )
            log.warning(
                "CORS preflight refused for origin %s (method %s, headers %s): %s%s",
                origin,
                request_headers.get("access-control-request-method", "-"),
                request_headers.get("access-control-request-headers", "-"),
                reason,
                hint,
            )
        return response


class WebChatLimitMiddleware:
    """The web chat's questions (Gradio's queue and API calls) count against the same per-address
    rate limit as /v1, so the chat is no way around it."""

    PATHS = ("/gradio_api/queue/join", "/gradio_api/call/", "/gradio_api/run/", "/gradio_api/api/")

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "POST" and scope.get("path", "").startswith(self.PATHS):
            client = scope.get("client")
            try:
                self.limiter.check(f"ip:{client[0] if client else '-'}")
            except ApiError as exc:
                await error_response(exc.status, exc.code, exc.message, exc.headers)(scope, receive, send)
                return
        await self.app(scope, receive, send)
