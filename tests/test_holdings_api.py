"""POST /v1/holdings, in process, over the bundled corpus (a stub bot: only its documents are read)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.corpus import load_corpus
from bot.server.app import create_app
from bot.settings import ServerSettings, Settings

ROOT = Path(__file__).resolve().parent.parent
BODY = {"residence": "UK", "platform": "US", "asset": "usd_stablecoin", "as_of": "2026-11-28"}


@pytest.fixture(scope="module")
def stub_bot() -> Any:
    return SimpleNamespace(index=SimpleNamespace(documents={d.id: d for d in load_corpus(ROOT / "corpus")}))


def make_client(stub_bot: Any, tmp_path: Path, **server: Any) -> TestClient:
    settings = Settings(server=ServerSettings(feedback_dir=tmp_path, **server))  # type: ignore[arg-type]
    return TestClient(create_app(settings, bot=stub_bot, web_chat=False))


def test_holdings_returns_the_matrix_and_timeline(stub_bot: Any, tmp_path: Path) -> None:
    response = make_client(stub_bot, tmp_path).post("/v1/holdings", json=BODY)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["as_of"] == "2026-11-28" and report["holding"]["citizenship"] == "other"
    cell = report["matrix"]["platform_failure"]["UK"]
    assert cell["state"] == "nothing_applies" and cell["quotes"][0]["doc_id"] == "fscs-crypto-not-protected"
    assert cell["quotes"][0]["url"].startswith("https://www.fscs.org.uk/")
    genius = next(e for e in report["timeline"] if e["date"] == "2027-01-18")
    assert genius["past"] is False and genius["quote"]["doc_id"] == "us-genius-act"


def test_holdings_jurisdictions_and_validation(stub_bot: Any, tmp_path: Path) -> None:
    client = make_client(stub_bot, tmp_path)
    only_us = client.post("/v1/holdings", json=BODY | {"jurisdictions": ["US"]}).json()
    assert only_us["jurisdictions"] == ["US"] and set(only_us["matrix"]["tax"]) == {"US"}
    bad = client.post("/v1/holdings", json=BODY | {"asset": "shares"})
    assert bad.status_code == 422 and bad.json()["error"]["code"]
    extra = client.post("/v1/holdings", json=BODY | {"colour": "red"})
    assert extra.status_code == 422


def test_holdings_needs_a_key_once_keys_are_configured(stub_bot: Any, tmp_path: Path) -> None:
    key = "sk_test_holdings"
    client = make_client(stub_bot, tmp_path, api_key_hashes=[hashlib.sha256(key.encode()).hexdigest()])
    assert client.post("/v1/holdings", json=BODY).status_code == 401
    assert client.post("/v1/holdings", json=BODY, headers={"X-API-Key": key}).status_code == 200


def test_holdings_is_in_openapi(stub_bot: Any, tmp_path: Path) -> None:
    schema = make_client(stub_bot, tmp_path).get("/openapi.json").json()
    operation = schema["paths"]["/v1/holdings"]["post"]
    assert operation["tags"] == ["holdings"]
    assert "HoldingReport" in str(operation["responses"]["200"])
    request = schema["components"]["schemas"]["HoldingRequest"]
    assert {"residence", "platform", "asset"} <= set(request["required"])


def test_get_holdings_says_to_post(stub_bot: Any, tmp_path: Path) -> None:
    response = make_client(stub_bot, tmp_path).get("/v1/holdings")
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert response.json()["error"]["code"] == "method_not_allowed"
