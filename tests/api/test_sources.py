"""The source routes, `/v1/sources` and `/v1/sources/{id}`."""

from __future__ import annotations

from starlette.testclient import TestClient

from bot.core import Bot

from .helpers import assert_error


def test_sources_list_and_detail(client: TestClient, fixture_bot: Bot) -> None:
    listing = client.get("/v1/sources").json()
    assert listing["count"] == len(fixture_bot.index.documents) == len(listing["sources"])
    assert listing["corpus_version"] == fixture_bot.index.corpus_version
    ids = {s["id"] for s in listing["sources"]}
    assert "fscs-crypto-not-protected" in ids
    detail = client.get("/v1/sources/fscs-crypto-not-protected").json()
    assert detail["publisher"] == "FSCS" and detail["url"].startswith("https://www.fscs.org.uk/")
    assert detail["sections"] and {"heading", "locator", "anchor"} <= set(detail["sections"][0])
    assert detail["content_hash"] == fixture_bot.index.documents["fscs-crypto-not-protected"].content_hash


def test_unknown_source_is_a_json_404(client: TestClient) -> None:
    error = assert_error(client.get("/v1/sources/no-such-doc"), 404, "source_not_found")
    assert "no-such-doc" in error["message"]
