"""uvicorn's HTTP protocol with a deadline for request headers.

uvicorn closes idle keep-alive connections, but a client that opens a connection and sends its request
head slowly, or never finishes it ("slowloris"), holds the connection for as long as it likes: a probe
kept 1,200 such connections open. Here a connection that has not sent a whole request head within
`header_timeout` seconds of connecting, or of the end of its last response, is closed.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

try:  # uvicorn picks httptools when it is installed ("auto"); keep that choice
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is not installed
    HttpToolsProtocol = None  # type: ignore[assignment,misc]


class _HeaderDeadline:
    """The deadline's bookkeeping, shared by the h11 and httptools protocols: armed when a connection is
    made, dropped when it is lost (a mixin placed before the uvicorn protocol class)."""

    header_timeout: float = 10.0
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]  # the uvicorn protocol after this mixin
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.header_timeout, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


class H11HeaderDeadline(_HeaderDeadline, H11Protocol):
    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        if self.cycle is not before:  # a whole request head arrived
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
            self._arm()


if HttpToolsProtocol is not None:

    class HttpToolsHeaderDeadline(_HeaderDeadline, HttpToolsProtocol):
        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and not self.pipeline:
                self._arm()


def with_header_timeout(seconds: float) -> type[Any]:
    """The protocol class for `uvicorn.run(http=...)`: httptools when installed, else h11, with the deadline."""
    base: type[Any] = HttpToolsHeaderDeadline if HttpToolsProtocol is not None else H11HeaderDeadline
    return type(base.__name__, (base,), {"header_timeout": seconds})
