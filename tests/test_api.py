"""In-process tests of the HTTP API (`bot.server.app.create_app`) over the real fixture bot."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.core import Bot, StreamEvent
from bot.errors import StoreUnavailableError
from bot.prompts import NOTICE
from bot.server import auth, errors, limits, middleware
from bot.server.app import create_app
from bot.server.store import Store, answers_table, default_url, feedback_table
from bot.settings import ServerSettings
from bot.types import Answer

QUESTION = "I live in Bristol and keep USDC on a US exchange; what protects me if it fails?"
SECRET = "sk_test_4f1c2b"
PORTAL = "https://support.portal.example"
PK = "pk_test_portal"

MakeClient = Callable[..., TestClient]


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


# --------------------------------------------------------------------------- health


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


# --------------------------------------------------------------------------- answers


def test_answer_endpoint_returns_the_answer_contract(client: TestClient) -> None:
    response = client.post("/v1/answers", json={"question": QUESTION})
    assert response.status_code == 200, response.text
    answer = Answer.model_validate(response.json())
    assert answer.kind == "answer"
    assert answer.sections["UK"] and answer.sections["US"]
    assert answer.citations and all(c.url.startswith("https://") for c in answer.citations.values())
    assert answer.notice == NOTICE
    assert response.headers["x-request-id"]


def test_answer_respects_jurisdictions_and_as_of(client: TestClient) -> None:
    body = {"question": QUESTION, "jurisdictions": ["US"], "as_of": "2026-06-01"}
    answer = Answer.model_validate(client.post("/v1/answers", json=body).json())
    assert answer.as_of == dt.date(2026, 6, 1)
    assert not answer.sections["UK"]
    assert all(c.jurisdiction != "UK" for c in answer.citations.values())


def test_follow_up_uses_history(client: TestClient) -> None:
    body = {
        "question": "And what about in the US?",
        "history": [
            {"role": "user", "content": "Do I pay tax on staking rewards in the UK?"},
            {"role": "assistant", "content": "…"},
        ],
    }
    answer = Answer.model_validate(client.post("/v1/answers", json=body).json())
    assert answer.profile.follow_up is True
    assert "tax" in answer.profile.topics


def test_stream_sends_lines_then_the_whole_answer(client: TestClient) -> None:
    response = client.post("/v1/answers/stream", json={"question": QUESTION})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "start" and kinds[-1] == "answer"
    assert kinds.count("chunk") >= 5 and set(kinds[1:-1]) == {"chunk"}
    answer = Answer.model_validate(events[-1][1])
    assert events[0][1] == {"question": QUESTION}
    chunks = [data for kind, data in events if kind == "chunk"]
    streamed = "\n".join(c["text"] for c in chunks)
    for sentence in answer.sections["UK"]:
        assert sentence.text in streamed
    cited = {n for c in chunks for n in c["citations"]}
    assert cited == set(answer.citations)


def test_stream_errors_before_streaming_are_json(client: TestClient) -> None:
    assert_error(client.post("/v1/answers/stream", json={"question": "  "}), 422, "invalid_question")


# --------------------------------------------------------------------------- sources and feedback


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


def test_answers_are_audited_and_feedback_needs_a_served_answer(make_client: MakeClient, tmp_path: Path) -> None:
    """Issue 13: every answer served is in the audit log (GET /v1/answers/{id}); feedback must name one;
    a caller's second rating replaces the first; the database file is private (0600)."""
    client = make_client(feedback_dir=tmp_path / "fb")
    question = QUESTION + " Write to me at jo.bloggs@example.com or +44 7700 900123."
    answer = client.post("/v1/answers", json={"question": question}).json()
    served = client.get(f"/v1/answers/{answer['id']}")
    assert served.status_code == 200
    assert served.json()["answer"] == answer["answer"] and served.json()["citations"] == answer["citations"]
    assert "[email]" in served.json()["question"] and "jo.bloggs" not in served.json()["question"]
    assert "7700" not in served.json()["question"]
    assert_error(client.get("/v1/answers/0123456789abcdef"), 404, "unknown_answer")

    for rating in ("down", "up"):
        response = client.post(
            "/v1/feedback", json={"answer_id": answer["id"], "rating": rating, "comment": "Missing FOS detail"}
        )
        assert response.status_code == 201 and response.json()["stored"] is True
    store = Store(default_url(tmp_path / "fb"), 90)
    records = store.feedback(answer["id"])
    assert len(records) == 1 and records[0]["rating"] == "up" and records[0]["source"] == "api"
    assert records[0]["request_id"] == response.headers["x-request-id"]
    assert (tmp_path / "fb" / "bot.sqlite3").stat().st_mode & 0o777 == 0o600

    assert_error(client.post("/v1/feedback", json={"answer_id": "neverissued", "rating": "up"}), 404, "unknown_answer")
    assert_error(
        client.post("/v1/feedback", json={"answer_id": "x", "question": "q", "rating": "meh"}),
        422,
        "invalid_request",
    )


def test_audit_records_expire_after_the_retention_period(tmp_path: Path, fixture_bot: Bot) -> None:
    store = Store(default_url(tmp_path), retention_days=1)
    answer = fixture_bot.ask(QUESTION)
    store.record(answer, surface="api", caller="test")
    store.add(answer_id=answer.id, rating="up", source="api", caller="test")
    assert store.prune() == 0 and store.answer(answer.id) is not None
    with store.engine.begin() as connection:
        old = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
        connection.execute(answers_table.update().values(time=old))
        connection.execute(feedback_table.update().values(time=old))
    assert store.prune() == 1 and store.answer(answer.id) is None and not store.feedback()


def test_a_callers_latest_rating_replaces_the_earlier_one(make_client: MakeClient, tmp_path: Path) -> None:
    client = keyed(make_client, feedback_dir=tmp_path / "fb")
    other = {"X-API-Key": SECRET}
    answer_id = client.post("/v1/answers", json={"question": QUESTION}, headers=other).json()["id"]
    token = client.post("/v1/sessions", json={"publishable_key": PK}, headers={"Origin": PORTAL}).json()["token"]
    widget = {"Authorization": f"Bearer {token}", "Origin": PORTAL}
    for headers, rating in ((widget, "up"), (other, "up"), (widget, "down")):
        body = {"answer_id": answer_id, "rating": rating}
        assert client.post("/v1/feedback", json=body, headers=headers).status_code == 201
    records = Store(default_url(tmp_path / "fb"), 90).feedback(answer_id)
    assert sorted((r["caller"].split(":")[0], r["rating"]) for r in records) == [("key", "up"), ("session", "down")]


def test_feedback_store_withdraws_a_rating(tmp_path: Path, fixture_bot: Bot) -> None:
    store = Store(default_url(tmp_path), 90)
    first, second = fixture_bot.ask(QUESTION), fixture_bot.ask(QUESTION + " (again)")
    for answer in (first, second):
        store.record(answer, surface="web", caller="web")
        store.add(answer_id=answer.id, rating="up", source="web", caller="web:s1")
    assert store.withdraw(answer_id=first.id, caller="web:s1") and not store.withdraw(
        answer_id=first.id, caller="web:s1"
    )
    assert [r["answer_id"] for r in store.feedback()] == [second.id]


# --------------------------------------------------------------------------- request errors


def test_question_errors_are_422_with_a_clear_message(client: TestClient, fixture_bot: Bot) -> None:
    assert_error(client.post("/v1/answers", json={"question": ""}), 422, "invalid_question")
    limit = fixture_bot.settings.answer.max_question_chars
    error = assert_error(client.post("/v1/answers", json={"question": "why " * limit}), 422, "invalid_question")
    assert f"the limit is {limit}" in error["message"]


def test_validation_errors_share_the_error_shape(client: TestClient) -> None:
    error = assert_error(client.post("/v1/answers", json={}), 422, "invalid_request")
    assert "question" in error["message"]
    assert_error(client.post("/v1/answers", json={"question": "q", "colour": "red"}), 422, "invalid_request")
    assert_error(
        client.post("/v1/answers", json={"question": QUESTION, "jurisdictions": ["FR"]}),
        422,
        "invalid_request",
    )
    assert_error(
        client.post("/v1/answers", content=b"{not json", headers={"content-type": "application/json"}),
        422,
        "invalid_request",
    )


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


def test_unknown_endpoint_is_a_json_404_and_wrong_method_405(client: TestClient) -> None:
    assert_error(client.get("/v1/nothing-here"), 404, "not_found")
    response = client.get("/v1/answers")
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"


def test_store_unavailable_is_503(make_client: MakeClient, fixture_bot: Bot) -> None:
    class StoreDown:
        """The fixture bot's data, but its vector store (a Chroma server) has gone away."""

        settings = fixture_bot.settings
        embedder = fixture_bot.embedder
        stale_reason = None

        class index:  # noqa: N801
            chunks = fixture_bot.index.chunks
            build_id = fixture_bot.index.build_id

            @staticmethod
            def problem() -> str:
                return "the vector store at http://127.0.0.1:1 does not answer (ConnectError)"

        def ask_stream(self, *args: Any, **kwargs: Any) -> Any:
            raise StoreUnavailableError("The Chroma server at http://127.0.0.1:1 stopped answering.")

    client = make_client(bot=StoreDown())
    response = client.post("/v1/answers", json={"question": QUESTION})
    assert "Chroma" in assert_error(response, 503, "store_unavailable")["message"]
    assert response.headers["Retry-After"]
    ready = assert_error(client.get("/readyz"), 503, "not_ready")
    assert ready["details"]["checks"]["store"] is False and "does not answer" in ready["message"]


def test_unexpected_errors_are_500_json(make_client: MakeClient) -> None:
    class Broken:
        def ask_stream(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("boom")

    client = make_client(bot=Broken(), raise_server_exceptions=False)
    error = assert_error(client.post("/v1/answers", json={"question": QUESTION}), 500, "internal_error")
    assert "boom" not in error["message"]


# ---------------------------------------------------------------- keys, sessions, CORS, rate limits


def keyed(make_client: MakeClient, **server: Any) -> TestClient:
    server.setdefault("api_key_hashes", [hashlib.sha256(SECRET.encode()).hexdigest()])
    server.setdefault("publishable_keys", {PK: [PORTAL]})
    return make_client(**server)


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


# --------------------------------------------------------------------------- docs, widget, web chat


def test_openapi_and_docs(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert {
        "/v1/answers",
        "/v1/answers/stream",
        "/v1/sources",
        "/v1/sources/{source_id}",
        "/v1/feedback",
        "/v1/sessions",
        "/healthz",
        "/readyz",
    } <= set(schema["paths"])
    assert "ErrorResponse" in schema["components"]["schemas"]
    assert "Answer" in schema["components"]["schemas"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    # Swagger UI and ReDoc come from the server itself (they work offline), never from a CDN.
    redoc = client.get("/redoc")
    assert redoc.status_code == 200
    for page in (docs.text, redoc.text):
        sources = re.findall(r'(?:src|href)="([^"]+)"', page)
        assert sources and all(url.startswith("/docs-assets/") for url in sources), sources
        for url in sources:
            assert client.get(url).status_code == 200, url
    # The API-key security scheme is declared, so "Authorize" in /docs sends the key.
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": schemes["ApiKey"]["description"],
    }
    assert schemes["Bearer"]["scheme"] == "bearer"
    assert schema["paths"]["/v1/answers"]["post"]["security"] == [{"ApiKey": []}, {"Bearer": []}]
    assert "security" not in schema["paths"]["/healthz"]["get"]


def test_widget_script_is_served(client: TestClient) -> None:
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "__NOTICE__" not in response.text and json.dumps(NOTICE) in response.text
    assert "/v1/sessions" in response.text and "/v1/answers/stream" in response.text
    assert client.get("/embed/widget.js").text == response.text
    demo = client.get("/embed/demo-portal.html")
    assert demo.status_code == 200 and 'data-api-key="pk_demo_portal"' in demo.text


def test_web_chat_is_mounted_at_the_root(fixture_bot: Bot, tmp_path: Path) -> None:
    settings = fixture_bot.settings.model_copy(update={"server": ServerSettings(feedback_dir=tmp_path)})
    with TestClient(create_app(settings, bot=fixture_bot)) as client:
        page = client.get("/")
        assert page.status_code == 200 and "<html" in page.text.lower()
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/v1/sources").status_code == 200
        assert_error(client.get("/v1/nothing"), 404, "not_found")


def test_web_chat_sources_panel_links_open_official_pages(fixture_bot: Bot) -> None:
    from bot.server.web import compact_answer, source_anchor, sources_html

    answer = fixture_bot.ask(QUESTION)
    panel = sources_html(answer)
    message = compact_answer(answer)
    for number, citation in answer.citations.items():
        assert f'href="{citation.url}" target="_blank" rel="noopener noreferrer"' in panel
        assert f'id="{source_anchor(answer.id, number)}"' in panel
    assert citation.url not in message  # the sources are listed once, in the panel
    assert f'<a class="cite" href="#{source_anchor(answer.id, 1)}">[1]</a>' in message


def test_web_chat_answer_is_compact_with_the_rest_under_show_more(fixture_bot: Bot) -> None:
    from bot.server.web import compact_answer
    from bot.types import answer_lines

    answer = fixture_bot.ask(QUESTION)
    shown, _, more = compact_answer(answer).partition('<details class="more">')
    points = [line for line in answer_lines(answer) if line.startswith("- ")]
    sides = [name for name in ("UK", "US", "cross_border", "next_steps") if answer.sections.get(name)]
    assert shown.count("\n- ") == len(sides)  # the first point of each side
    assert more.count("\n- ") == len(points) - len(sides) > 0
    assert f"Show {len(points) - len(sides)} more points" in more and answer.notice in more


def test_session_creation_is_rate_limited(make_client: MakeClient) -> None:
    client = keyed(make_client, rate_limit=1)
    body, origin = {"publishable_key": PK}, {"Origin": PORTAL}
    assert client.post("/v1/sessions", json=body, headers=origin).status_code == 201
    response = client.post("/v1/sessions", json=body, headers=origin)
    assert_error(response, 429, "rate_limited")
    assert int(response.headers["retry-after"]) >= 1


def test_rate_limit_window_slides() -> None:
    limiter = limits.RateLimiter(limit=1, window=0.2)
    limiter.check("key:a")
    with pytest.raises(errors.ApiError) as raised:
        limiter.check("key:a")
    assert raised.value.status == 429 and raised.value.headers["Retry-After"] == "1"
    time.sleep(0.25)
    limiter.check("key:a")  # the window has moved on


# ----------------------------------------------------------------- faults found by the probe (issue 13)


@pytest.mark.parametrize("path", ["/v1/answers", "/v1/answers/stream"])
def test_lone_surrogate_in_question_is_422(make_client: MakeClient, path: str) -> None:
    client = make_client(raise_server_exceptions=False)
    body = '{"question": "What is \\ud800 USDC?"}'
    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 422, "invalid_question")


def test_lone_surrogate_in_history_is_422(make_client: MakeClient) -> None:
    client = make_client(raise_server_exceptions=False)
    body = '{"question": "What is USDC?", "history": ["\\udfff"]}'
    response = client.post("/v1/answers", content=body, headers={"Content-Type": "application/json"})
    assert "history" in assert_error(response, 422, "invalid_question")["message"]


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


def test_long_digit_history_answers_quickly(client: TestClient) -> None:
    """A 30 KB run of digits once made the term regex quadratic (30 s); the history is also capped."""
    started = time.perf_counter()
    response = client.post("/v1/answers", json={"question": "What is USDC?", "history": ["1" * 19_000]})
    assert response.status_code == 200
    assert time.perf_counter() - started < 30  # generous: the fault took minutes at this size


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


class SlowSteps:
    """A bot whose answer takes many slow steps (an LLM backend that stalls, say); it records how far it got."""

    def __init__(self, fixture_bot: Bot, step_seconds: float) -> None:
        self.settings = fixture_bot.settings
        self.embedder = fixture_bot.embedder
        self.index = fixture_bot.index
        self.stale_reason = None
        self.step_seconds = step_seconds
        self.steps = 0
        self.closed = threading.Event()

    def ask_stream(self, *args: Any, **kwargs: Any) -> Any:
        try:
            for _ in range(100):
                time.sleep(self.step_seconds)
                self.steps += 1
                yield StreamEvent("line", text="- a verified sentence [1]")
        finally:
            self.closed.set()


def test_an_answer_past_its_deadline_is_a_503_and_stops(make_client: MakeClient, fixture_bot: Bot) -> None:
    """Issue 13: a started answer had no deadline; it now stops at its next step and the caller gets a 503."""
    slow = SlowSteps(fixture_bot, step_seconds=0.1)
    client = make_client(bot=slow, answer_timeout_seconds=0.5)
    started = time.perf_counter()
    response = client.post("/v1/answers", json={"question": QUESTION})
    assert time.perf_counter() - started < 3
    assert "answer_timeout_seconds" in assert_error(response, 503, "answer_timeout")["message"]
    assert response.headers["Retry-After"]
    assert slow.closed.wait(2), "the answer's generator was never closed"
    steps = slow.steps
    time.sleep(0.3)
    assert slow.steps == steps < 20  # no step started after the deadline


def test_an_answer_stops_when_the_client_goes_away(fixture_bot: Bot) -> None:
    """Issue 13: work went on after the client disconnected (all 400 computed when 376 had given up)."""
    import asyncio

    from bot.server import routes
    from bot.server.schemas import AnswerRequest

    slow = SlowSteps(fixture_bot, step_seconds=0.05)

    class Holder:
        def get(self) -> Any:
            return slow

    class Gone:
        async def is_disconnected(self) -> bool:
            return slow.steps >= 3

    services: Any = type("S", (), {"holder": Holder(), "settings": fixture_bot.settings})()
    with pytest.raises(errors.ApiError) as caught:
        asyncio.run(routes._ask(services, AnswerRequest(question=QUESTION), Gone()))  # type: ignore[arg-type]
    assert caught.value.status == 499
    assert slow.closed.wait(2)
    assert slow.steps < 10


def test_rate_limiter_memory_is_bounded() -> None:
    limiter = limits.RateLimiter(limit=5, window=60, max_callers=100)
    for n in range(1000):
        limiter.check(f"ip:10.0.{n // 256}.{n % 256}")
    assert len(limiter) == 100


def test_widget_sessions_of_one_key_and_address_share_one_allowance(make_client: MakeClient) -> None:
    client = keyed(make_client, rate_limit=3)
    statuses = []
    for _ in range(3):  # a new session each time does not buy more requests
        token = client.post("/v1/sessions", json={"publishable_key": PK}, headers={"Origin": PORTAL}).json()["token"]
        for _ in range(2):
            response = client.get("/v1/sources", headers={"Authorization": f"Bearer {token}", "Origin": PORTAL})
            statuses.append(response.status_code)
    assert statuses.count(200) == 3 and statuses.count(429) == 3


def test_keys_close_the_web_chat_unless_it_is_opened(fixture_bot: Bot, tmp_path: Path) -> None:
    """Issue 13: with keys on /v1, the chat answered anyone through Gradio's queue."""
    hashes = [hashlib.sha256(SECRET.encode()).hexdigest()]
    for open_chat, mounted in ((False, False), (True, True)):
        server = ServerSettings(api_key_hashes=hashes, web_chat_open=open_chat, feedback_dir=tmp_path)
        app = create_app(fixture_bot.settings.model_copy(update={"server": server}), bot=fixture_bot, web_chat=True)
        page = TestClient(app).get("/")
        assert (page.status_code == 200 and "text/html" in page.headers["content-type"]) == mounted


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
