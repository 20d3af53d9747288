"""What the API tests share: the sample question, keys and origin, and checks of the error and SSE shapes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

QUESTION = "I live in Bristol and keep USDC on a US exchange; what protects me if it fails?"
SECRET = "sk_test_4f1c2b"
PORTAL = "https://support.portal.example"
PK = "pk_test_portal"

MakeClient = Callable[..., TestClient]


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """Every error has one shape, and its request id is the response's X-Request-ID."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert {"code", "message", "request_id"} <= set(error)
    assert error["code"] == code, error
    assert error["message"]
    assert error["request_id"] == response.headers["x-request-id"]
    return error


def sse_events(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def keyed(make_client: MakeClient, **server: Any) -> TestClient:
    server.setdefault("api_key_hashes", [hashlib.sha256(SECRET.encode()).hexdigest()])
    server.setdefault("publishable_keys", {PK: [PORTAL]})
    return make_client(**server)
