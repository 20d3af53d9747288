"""Fixtures of the API tests: an in-process client over an app with the fixture bot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.core import Bot
from bot.server.app import create_app
from bot.settings import ServerSettings

from .helpers import MakeClient


@pytest.fixture
def make_client(fixture_bot: Bot, tmp_path: Path) -> MakeClient:
    """A TestClient over an app with the fixture bot and the given server settings."""

    def make(bot: Any = None, raise_server_exceptions: bool = True, **server: Any) -> TestClient:
        server.setdefault("feedback_dir", tmp_path / "feedback")
        settings = fixture_bot.settings.model_copy(update={"server": ServerSettings(**server)})
        app = create_app(settings, bot=fixture_bot if bot is None else bot, web_chat=False)
        return TestClient(app, raise_server_exceptions=raise_server_exceptions)

    return make


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()
