"""ASGI middleware: request ids and request logging, and the /v1 body-size limit."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi.responses import JSONResponse

from bot.server.errors import ApiError, error_response, request_id_var
from bot.server.limits import RateLimiter

log = logging.getLogger("bot.server")


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


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
