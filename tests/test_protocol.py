"""The server closes connections whose request head never arrives (issue 13: 1,200 half-sent heads stayed open)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from bot.server.protocol import H11HeaderDeadline, HttpToolsProtocol, with_header_timeout


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


PROTOCOLS = [pytest.param(type("H11", (H11HeaderDeadline,), {"header_timeout": 0.5}), id="h11")]
if HttpToolsProtocol is not None:
    PROTOCOLS.append(pytest.param(with_header_timeout(0.5), id="httptools"))


@pytest.fixture(params=PROTOCOLS)
def port(request: pytest.FixtureRequest) -> Iterator[int]:
    port = _free_port()
    config = uvicorn.Config(_app, host="127.0.0.1", port=port, http=request.param, log_level="error", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(timeout=5)


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes the connection (recv returns b"") within `seconds`."""
    sock.settimeout(seconds)
    try:
        while chunk := sock.recv(4096):
            if not chunk:
                break
        return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_a_half_sent_request_head_is_closed(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        assert _closed_within(sock, 5)


def test_a_silent_connection_is_closed(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        assert _closed_within(sock, 5)


def test_a_whole_request_is_answered_and_a_slow_second_head_is_closed(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(5)
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # the next request's head, never finished
        assert _closed_within(sock, 5)


def test_a_slow_answer_is_not_cut_by_the_header_deadline() -> None:
    """The deadline covers the request head only: an answer that takes longer than it still arrives."""
    import asyncio

    async def slow(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await asyncio.sleep(1.0)
        await _app(scope, receive, send)

    port = _free_port()
    config = uvicorn.Config(
        slow, host="127.0.0.1", port=port, http=with_header_timeout(0.3), log_level="error", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.settimeout(5)
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    finally:
        server.should_exit = True
        thread.join(timeout=5)
