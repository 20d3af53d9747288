"""The one JSON error shape of the API and the handlers that produce it:
`{"error": {"code": ..., "message": ..., "request_id": ...}}`."""

from __future__ import annotations

import logging
from typing import Any

from asgi_correlation_id import correlation_id
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.errors import (
    ArtifactError,
    BotError,
    CorpusError,
    IndexMismatchError,
    IndexMissingError,
    ModelLoadError,
    NotReadyError,
    QuestionError,
    StoreError,
    StoreUnavailableError,
    UnknownAnswerError,
)

log = logging.getLogger("bot.server")


def request_id() -> str:
    """The current request's id (set by middleware.request_ids), or "-" outside a request."""
    return correlation_id.get() or "-"


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
    body: dict[str, Any] = {"code": code, "message": message, "request_id": request_id()}
    if details:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


_BOT_ERROR_STATUS: dict[type[BotError], int] = {
    QuestionError: 422,
    StoreUnavailableError: 503,
    IndexMissingError: 503,
    ArtifactError: 503,
    IndexMismatchError: 503,
    ModelLoadError: 503,
    NotReadyError: 503,
    StoreError: 503,
    UnknownAnswerError: 404,
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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers, exc.details)

    @app.exception_handler(BotError)
    async def _bot_error(_: Request, exc: BotError) -> JSONResponse:
        status = bot_error_status(exc)
        if status >= 500 and not isinstance(exc, NotReadyError):
            log.error("%s: %s", exc.code, exc)
        # A 503 is temporary (loading, or the vector store away): say when to retry.
        headers = {"Retry-After": "5"} if status == 503 else None
        return error_response(status, exc.code, str(exc), headers)

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
