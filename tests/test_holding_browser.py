"""The web chat's "My holding" tab in Debian's Chromium: fill the form, check the matrix and the timeline.

The app runs in a thread over the bundled corpus with a stub bot (the tab reads only the index's documents),
so no index needs building; the chat tab itself is covered by tests/test_browser.py.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from bot.corpus import load_corpus
from bot.server.app import create_app
from bot.settings import Settings
from tests.conftest import ROOT
from tests.test_browser import browser, free_port  # noqa: F401 - the module-scoped Chromium fixture

pytestmark = pytest.mark.slow
KEY = "pk_holding_test"
PORTAL_PORT = free_port()
PORTAL = f"http://127.0.0.1:{PORTAL_PORT}"  # a portal page on another origin (Chromium blocks a routed one)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    server_settings = {
        "feedback_dir": tmp_path_factory.mktemp("feedback"),
        "publishable_keys": {KEY: [PORTAL]},
        "web_chat_open": True,  # with keys configured, the chat is mounted only when opened explicitly
    }
    settings = Settings(server=server_settings)  # type: ignore[arg-type]
    stub = SimpleNamespace(
        index=SimpleNamespace(documents={d.id: d for d in load_corpus(ROOT / "corpus")}), settings=settings
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, bot=stub, web_chat=True), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "the app did not start in 60 s"
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=10)


def test_holding_tab_renders_matrix_and_timeline(browser: Any, app_url: str) -> None:  # noqa: F811
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    try:
        page.goto(app_url)
        page.get_by_role("tab", name="My holding").click()
        page.locator("#holding-citizenship").get_by_label("UK and US").check()
        page.locator("#holding-regulated").get_by_label("Yes").check()
        page.locator("#holding-as-of").locator("textarea, input").first.fill("2026-11-28")
        page.locator("#holding-show").click()
        page.locator("#holding-matrix").wait_for(timeout=30_000)

        assert page.locator("#holding-output h3").first.inner_text() == "My holding, as of 28 November 2026"
        rows = page.locator("#holding-matrix tbody tr")
        assert rows.count() == 8
        uk_failure = page.locator('td[data-concern="platform_failure"][data-side="UK"]')
        assert "Nothing applies" in uk_failure.inner_text() and "FSCS" in uk_failure.inner_text()
        assert "fscs.org.uk" in (uk_failure.locator("a").first.get_attribute("href") or "")
        us_tax = page.locator('td[data-concern="tax"][data-side="US"]')
        assert us_tax.inner_text().startswith("Applies") and "US citizen" in us_tax.inner_text()
        assert "double taxation" in page.locator('td[data-concern="tax"][data-side="gap"]').inner_text()
        assert page.locator('td.missing[data-concern="marketing"][data-side="gap"]').count() == 1

        genius = page.locator('#holding-timeline li[data-date="2027-01-18"]')
        assert "GENIUS" in genius.inner_text() and "(coming)" in genius.inner_text()
        assert page.locator("#holding-timeline li.past").count() >= 1
        page.screenshot(path=str(ROOT / "docs" / "img" / "my-holding.png"))
    finally:
        page.close()


def test_describing_the_holding_fills_the_form(browser: Any, app_url: str) -> None:  # noqa: F811
    page = browser.new_page(viewport={"width": 1280, "height": 1200})
    try:
        page.goto(app_url)
        page.get_by_role("tab", name="My holding").click()
        words = "I am an American living in London and keep bitcoin in my own wallet"
        page.locator("#holding-describe").locator("textarea, input").first.fill(words)
        page.locator("#holding-fill").click()
        page.locator("#holding-custody").get_by_label("In my own wallet").wait_for(state="visible")
        page.wait_for_function(
            "() => document.querySelector('#holding-custody input[value=\"In my own wallet\"]')?.checked"
        )
        assert page.locator("#holding-citizenship").get_by_label("US", exact=True).is_checked()
        assert page.locator("#holding-residence").get_by_label("UK", exact=True).is_checked()
        assert "Bitcoin" in page.locator("#holding-asset").locator("input").first.input_value()
    finally:
        page.close()


def test_widget_holding_panel_on_another_origin(browser: Any, app_url: str) -> None:  # noqa: F811
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    html = (
        f'<html><body><h1>Support portal</h1><script src="{app_url}widget.js" data-api-key="{KEY}" '
        'data-holding="true" data-open="true"></script></body></html>'
    )
    body = html.encode()

    class Portal(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    portal = http.server.ThreadingHTTPServer(("127.0.0.1", PORTAL_PORT), Portal)
    threading.Thread(target=portal.serve_forever, daemon=True).start()
    try:
        page.goto(PORTAL + "/")
        widget = page.locator("#crypto-guidance-widget")
        widget.get_by_role("button", name="My holding").click()
        widget.locator("select[name=citizenship]").select_option("US")
        widget.get_by_role("button", name="Show my holding").click()
        cell = widget.locator('.cell[data-concern="platform_failure"][data-side="UK"]')
        cell.wait_for(timeout=30_000)
        assert "Nothing applies" in cell.inner_text() and "FSCS" in cell.inner_text()
        assert "fscs.org.uk" in (cell.locator("a").first.get_attribute("href") or "")
        assert widget.locator('.cell.applies[data-concern="tax"][data-side="US"]').count() == 1  # a US citizen
        assert "GENIUS" in widget.locator('li[data-date="2027-01-18"]').inner_text()
        widget.get_by_role("button", name="Chat", exact=True).click()
        assert widget.locator("textarea").is_visible()
    finally:
        page.close()
        portal.shutdown()
        portal.server_close()
