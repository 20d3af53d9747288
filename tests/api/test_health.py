"""Liveness, readiness and request ids (`bot.server.routes` health routes, `bot.server.middleware`)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot.core import Bot
from bot.server import middleware
from bot.server.app import create_app
from bot.settings import ServerSettings

from .helpers import QUESTION, assert_error


def test_request_ids_are_in_the_logs(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(middleware.RequestIdLogFilter())
    with caplog.at_level(logging.INFO, logger="bot.server"):
        client.post("/v1/answers", json={"question": ""}, headers={"X-Request-ID": "trace-42"})
    lines = [r for r in caplog.records if "POST /v1/answers -> 422" in r.getMessage()]
    assert lines and lines[0].request_id == "trace-42"  # type: ignore[attr-defined]


def test_healthz_and_request_ids(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert len(response.headers["x-request-id"]) == 32
    assert client.get("/healthz", headers={"X-Request-ID": "portal-123"}).headers["x-request-id"] == "portal-123"
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"}).headers["x-request-id"]
    assert replaced != "bad id\twith spaces" and len(replaced) == 32


def test_readyz_reports_model_index_and_store(client: TestClient, fixture_bot: Bot) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"model": True, "index": True, "store": True}
    assert body["index_build"] == fixture_bot.index.build_id
    assert body["documents"] == len(fixture_bot.index.documents)


def test_not_ready_while_the_bot_loads(fixture_bot: Bot, tmp_path: Path) -> None:
    settings = fixture_bot.settings.model_copy(update={"server": ServerSettings(feedback_dir=tmp_path)})
    client = TestClient(create_app(settings, bot=None, web_chat=False))  # no lifespan: never loads
    assert client.get("/healthz").status_code == 200
    error = assert_error(client.get("/readyz"), 503, "not_ready")
    assert error["details"]["checks"]["index"] is False
    response = client.post("/v1/answers", json={"question": QUESTION})
    assert_error(response, 503, "not_ready")
    assert response.headers["retry-after"] == "5"
