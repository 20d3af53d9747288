"""Middleware, keys, CORS, rate limits and admission (`bot.server.auth`, `limits`, `middleware`)."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest

from bot.core import Bot
from bot.server import errors, limits
from bot.settings import ServerSettings

from .helpers import PK, PORTAL, SECRET, MakeClient, assert_error, keyed


def test_body_size_limit_is_413(make_client: MakeClient) -> None:
    client = make_client(max_body_bytes=2048)
    error = assert_error(client.post("/v1/answers", json={"question": "x" * 5000}), 413, "payload_too_large")
    assert "2048 bytes" in error["message"]

    def chunked() -> Any:  # no Content-Length: the limit still holds while reading
        for _ in range(10):
            yield b"x" * 512

    assert_error(
        client.post("/v1/answers", content=chunked(), headers={"content-type": "application/json"}),
        413,
        "payload_too_large",
    )


def test_secret_api_keys(make_client: MakeClient) -> None:
    client = keyed(make_client)
    assert_error(client.get("/v1/sources"), 401, "missing_api_key")
    assert client.get("/v1/sources").headers["www-authenticate"] == "Bearer"
    assert_error(client.get("/v1/sources", headers={"X-API-Key": "sk_wrong"}), 401, "invalid_api_key")
    assert_error(client.get("/v1/sources", headers={"X-API-Key": PK}), 401, "invalid_api_key")
    assert client.get("/v1/sources", headers={"X-API-Key": SECRET}).status_code == 200
    assert client.get("/v1/sources", headers={"Authorization": f"Bearer {SECRET}"}).status_code == 200
    assert client.get("/healthz").status_code == 200  # health, docs and the widget need no key
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/widget.js").status_code == 200


def test_api_key_hashes_must_be_sha256_digests() -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        ServerSettings(api_key_hashes=[SECRET])


@pytest.mark.parametrize("keyed_server", [False, True])
@pytest.mark.parametrize("token", ["sk_\u00e9t\u00e9", "st_\u00e9t\u00e9.x", "st_abc.\u00e9"])
def test_non_ascii_token_is_never_a_500(make_client: MakeClient, keyed_server: bool, token: str) -> None:
    """A server with keys rejects it with 401; one without keys ignores a secret key it does not need."""
    server = {"api_key_hashes": [hashlib.sha256(SECRET.encode()).hexdigest()]} if keyed_server else {}
    client = make_client(raise_server_exceptions=False, **server)
    response = client.get("/v1/sources", headers=[(b"authorization", f"Bearer {token}".encode())])
    if keyed_server or token.startswith("st_"):
        assert_error(response, 401, "invalid_api_key" if token.startswith("sk_") else "invalid_session")
    else:
        assert response.status_code == 200


def test_cors_allows_only_listed_origins(make_client: MakeClient) -> None:
    client = keyed(make_client, cors_origins=["https://ops.example"])
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,authorization",
    }
    for origin in (PORTAL, "https://ops.example"):
        response = client.options("/v1/answers", headers={**preflight, "Origin": origin})
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == origin
    denied = client.options("/v1/answers", headers={**preflight, "Origin": "https://evil.example"})
    assert denied.status_code == 400
    assert "access-control-allow-origin" not in denied.headers


def test_rate_limit_per_key_is_429_with_retry_after(make_client: MakeClient) -> None:
    other = "sk_other_key"
    client = keyed(
        make_client,
        rate_limit=2,
        rate_limit_window_seconds=60,
        api_key_hashes=[hashlib.sha256(k.encode()).hexdigest() for k in (SECRET, other)],
    )
    for _ in range(2):
        assert client.get("/v1/sources", headers={"X-API-Key": SECRET}).status_code == 200
    response = client.get("/v1/sources", headers={"X-API-Key": SECRET})
    error = assert_error(response, 429, "rate_limited")
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert "2 per 60 seconds" in error["message"]
    assert client.get("/v1/sources", headers={"X-API-Key": other}).status_code == 200  # its own budget


def test_rate_limit_window_slides() -> None:
    limiter = limits.RateLimiter(limit=1, window=0.2)
    limiter.check("key:a")
    with pytest.raises(errors.ApiError) as raised:
        limiter.check("key:a")
    assert raised.value.status == 429 and raised.value.headers["Retry-After"] == "1"
    time.sleep(0.25)
    limiter.check("key:a")  # the window has moved on


def test_rate_limiter_memory_is_bounded() -> None:
    limiter = limits.RateLimiter(limit=5, window=60, max_callers=100)
    for n in range(1000):
        limiter.check(f"ip:10.0.{n // 256}.{n % 256}")
    assert len(limiter) == 100


def test_admission_sheds_load_past_the_queue_with_a_fast_503() -> None:
    """Issue 13: past capacity, requests queued without bound (p50 9.3 s at 256 clients)."""
    import asyncio

    gate = limits.Admission(in_flight=1, queue=1, timeout=5)
    outcomes: list[str] = []

    async def one(hold: float, gate: limits.Admission = gate) -> None:
        try:
            async with gate.slot():
                await asyncio.sleep(hold)
            outcomes.append("served")
        except errors.ApiError as exc:
            assert exc.status == 503 and exc.headers["Retry-After"]
            outcomes.append("shed")

    async def main() -> float:
        started = time.perf_counter()
        await asyncio.gather(one(0.3), one(0.01), one(0.01), one(0.01))
        return time.perf_counter() - started

    elapsed = asyncio.run(main())
    assert sorted(outcomes) == ["served", "served", "shed", "shed"]
    assert elapsed < 5

    waited = limits.Admission(in_flight=1, queue=5, timeout=0.1)
    outcomes.clear()

    async def timed_out() -> None:
        await asyncio.gather(one(0.5, waited), one(0.01, waited))

    asyncio.run(timed_out())
    assert sorted(outcomes) == ["served", "shed"]


def test_forwarded_for_is_trusted_only_from_configured_proxies(
    monkeypatch: pytest.MonkeyPatch, fixture_bot: Bot
) -> None:
    import uvicorn

    from bot.server import app as server_app

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: seen.update(kwargs))
    monkeypatch.setattr(server_app, "create_app", lambda settings, **_: None)
    server_app.serve(fixture_bot.settings)
    assert seen["proxy_headers"] is False and seen["forwarded_allow_ips"] == ""
    proxied = fixture_bot.settings.model_copy(update={"server": ServerSettings(trusted_proxies=["10.0.0.2"])})
    server_app.serve(proxied)
    assert seen["proxy_headers"] is True and seen["forwarded_allow_ips"] == "10.0.0.2"
