"""Widget sessions: `/v1/sessions`, publishable keys, origins and session tokens."""

from __future__ import annotations

import logging
import time

import pytest

from bot.server import auth

from .helpers import PK, PORTAL, QUESTION, MakeClient, assert_error, keyed


def test_widget_session_from_an_allowed_origin(make_client: MakeClient) -> None:
    client = keyed(make_client)
    response = client.post("/v1/sessions", json={"publishable_key": PK}, headers={"Origin": PORTAL})
    assert response.status_code == 201, response.text
    session = response.json()
    assert session["token"].startswith("st_") and session["token_type"] == "Bearer"
    assert 0 < session["expires_in"] <= 900
    auth = {"Authorization": f"Bearer {session['token']}", "Origin": PORTAL}
    answer = client.post("/v1/answers", json={"question": QUESTION}, headers=auth)
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == PORTAL
    # The token only works from the origin it was issued to, and cannot be altered.
    assert_error(
        client.post(
            "/v1/answers",
            json={"question": QUESTION},
            headers={**auth, "Origin": "https://evil.example"},
        ),
        403,
        "origin_not_allowed",
    )
    assert_error(
        client.get("/v1/sources", headers={"Authorization": f"Bearer {session['token']}"}),
        403,
        "origin_not_allowed",
    )
    tampered = session["token"][:-2] + ("AA" if not session["token"].endswith("AA") else "BB")
    assert_error(
        client.get("/v1/sources", headers={**auth, "Authorization": f"Bearer {tampered}"}),
        401,
        "invalid_session",
    )


def test_publishable_key_checks_origin_and_key(make_client: MakeClient) -> None:
    client = keyed(make_client)
    assert_error(
        client.post("/v1/sessions", json={"publishable_key": PK}, headers={"Origin": "https://evil.example"}),
        403,
        "origin_not_allowed",
    )
    assert_error(client.post("/v1/sessions", json={"publishable_key": PK}), 403, "origin_not_allowed")
    assert_error(
        client.post("/v1/sessions", json={"publishable_key": "pk_unknown"}, headers={"Origin": PORTAL}),
        401,
        "invalid_publishable_key",
    )


def test_refused_widget_origins_are_logged_with_the_reason(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = keyed(make_client)
    caplog.set_level(logging.WARNING, logger="bot.server")
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    refused = client.options("/v1/sessions", headers={**preflight, "Origin": "http://localhost:8001"})
    assert refused.status_code == 400
    client.post("/v1/sessions", json={"publishable_key": "pk_unknown"}, headers={"Origin": PORTAL})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "CORS preflight refused for origin http://localhost:8001" in logged
    assert "Disallowed CORS origin" in logged and "server.publishable_keys" in logged
    assert f"widget session refused for origin {PORTAL}, key pk_unknown: invalid_publishable_key" in logged


def test_expired_session_is_401(make_client: MakeClient, monkeypatch: pytest.MonkeyPatch) -> None:
    client = keyed(make_client, session_ttl_seconds=30)
    token = client.post("/v1/sessions", json={"publishable_key": PK}, headers={"Origin": PORTAL}).json()["token"]
    later = time.time() + 31
    monkeypatch.setattr(auth.time, "time", lambda: later)
    assert_error(
        client.get("/v1/sources", headers={"Authorization": f"Bearer {token}", "Origin": PORTAL}),
        401,
        "session_expired",
    )


def test_session_creation_is_rate_limited(make_client: MakeClient) -> None:
    client = keyed(make_client, rate_limit=1)
    body, origin = {"publishable_key": PK}, {"Origin": PORTAL}
    assert client.post("/v1/sessions", json=body, headers=origin).status_code == 201
    response = client.post("/v1/sessions", json=body, headers=origin)
    assert_error(response, 429, "rate_limited")
    assert int(response.headers["retry-after"]) >= 1


def test_widget_sessions_of_one_key_and_address_share_one_allowance(make_client: MakeClient) -> None:
    client = keyed(make_client, rate_limit=3)
    statuses = []
    for _ in range(3):  # a new session each time does not buy more requests
        token = client.post("/v1/sessions", json={"publishable_key": PK}, headers={"Origin": PORTAL}).json()["token"]
        for _ in range(2):
            response = client.get("/v1/sources", headers={"Authorization": f"Bearer {token}", "Origin": PORTAL})
            statuses.append(response.status_code)
    assert statuses.count(200) == 3 and statuses.count(429) == 3
