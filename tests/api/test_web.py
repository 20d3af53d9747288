"""What the server serves besides /v1: the OpenAPI docs, the widget script and the web chat."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from starlette.testclient import TestClient

from bot.core import Bot
from bot.prompts import NOTICE
from bot.server.app import create_app
from bot.settings import ServerSettings

from .helpers import QUESTION, SECRET, assert_error


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
    from bot.server.web_render import compact_answer, source_anchor, sources_html

    answer = fixture_bot.ask(QUESTION)
    panel = sources_html(answer)
    message = compact_answer(answer)
    for number, citation in answer.citations.items():
        assert f'href="{citation.url}" target="_blank" rel="noopener noreferrer"' in panel
        assert f'id="{source_anchor(answer.id, number)}"' in panel
    assert citation.url not in message  # the sources are listed once, in the panel
    assert f'<a class="cite" href="#{source_anchor(answer.id, 1)}">[1]</a>' in message


def test_web_chat_answer_is_compact_with_the_rest_under_show_more(fixture_bot: Bot) -> None:
    from bot.server.web_render import compact_answer
    from bot.types import answer_lines

    answer = fixture_bot.ask(QUESTION)
    shown, _, more = compact_answer(answer).partition('<details class="more">')
    points = [line for line in answer_lines(answer) if line.startswith("- ")]
    sides = [name for name in ("UK", "US", "cross_border", "next_steps") if answer.sections.get(name)]
    assert shown.count("\n- ") == len(sides)  # the first point of each side
    assert more.count("\n- ") == len(points) - len(sides) > 0
    assert f"Show {len(points) - len(sides)} more points" in more and answer.notice in more


def test_keys_close_the_web_chat_unless_it_is_opened(fixture_bot: Bot, tmp_path: Path) -> None:
    """Issue 13: with keys on /v1, the chat answered anyone through Gradio's queue."""
    hashes = [hashlib.sha256(SECRET.encode()).hexdigest()]
    for open_chat, mounted in ((False, False), (True, True)):
        server = ServerSettings(api_key_hashes=hashes, web_chat_open=open_chat, feedback_dir=tmp_path)
        app = create_app(fixture_bot.settings.model_copy(update={"server": server}), bot=fixture_bot, web_chat=True)
        page = TestClient(app).get("/")
        assert (page.status_code == 200 and "text/html" in page.headers["content-type"]) == mounted
