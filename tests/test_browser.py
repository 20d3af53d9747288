"""Browser tests: `bot serve` as a real process, driven by Debian's Chromium through Playwright.

(1) The web chat at / answers with cited sources whose links open the official pages.
(2) The widget embedded in a mock support portal on another origin answers with citations.
Screenshots go to test-artifacts/ and docs/img/ (for the README).
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.prompts import NOTICE
from bot.server.store import Store, default_url
from tests.conftest import FIXTURE_CORPUS, ROOT, wait_until_up

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DOCS_IMG = ROOT / "docs" / "img"
DEMO_PAGE = ROOT / "bot" / "static" / "demo-portal.html"
DEMO_KEY = "pk_demo_portal"
SCROLL_TO_TOP = """node => {
  const log = node.closest('[role=log]');
  log.scrollTop += node.getBoundingClientRect().top - log.getBoundingClientRect().top - 8;
}"""
WEB_QUESTION = "I live in Bristol and keep USDC on a US exchange; what protects me if it fails?"
WIDGET_QUESTION = "Does the FSCS protect my crypto if the exchange fails?"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's Chromium is missing: `apt-get install -y chromium` (or `make browser`).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class DemoHost:
    """Serves the demo support-portal page from its own origin, pointed at the bot's URL."""

    def __init__(self, bot_url: str, port: int = 0) -> None:
        page = DEMO_PAGE.read_text(encoding="utf-8").replace("http://127.0.0.1:8000", bot_url).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if self.path.split("?")[0] not in ("/", "/demo-portal.html"):
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> DemoHost:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`bot serve` on a free loopback port over a copy of the fixture corpus; waits for /readyz."""
    work = tmp_path_factory.mktemp("serve")
    shutil.copytree(FIXTURE_CORPUS, work / "corpus")
    port = free_port()
    demo_port = free_port()
    env = {
        **os.environ,
        "BOT_CORPUS__PATH": str(work / "corpus"),
        "BOT_INDEX__PATH": str(work / "index"),
        "BOT_SERVER__FEEDBACK_DIR": str(work / "feedback"),
        "BOT_SERVER__PUBLISHABLE_KEYS": json.dumps({DEMO_KEY: [f"http://127.0.0.1:{demo_port}"]}),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",
    }
    log_path = work / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(process, f"{url}/readyz", "`bot serve`", log_path)
            yield {
                "url": url,
                "demo_port": demo_port,
                "feedback": work / "feedback" / "bot.sqlite3",
                "log": log_path,
            }
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def save_screenshot(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / name))
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(artifacts / name, DOCS_IMG / name)


def test_web_chat_answers_with_cited_sources(browser: Any, server: dict[str, Any], artifacts: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(server["url"] + "/", wait_until="domcontentloaded")
    question = page.locator("#question textarea")
    question.wait_for(timeout=30_000)
    notice = page.locator("#notice")
    assert NOTICE[:60] in notice.inner_text()
    assert notice.is_visible()
    assert page.get_by_text("Example questions").is_visible()
    assert page.locator("#jurisdiction").get_by_text("UK only").is_visible()

    question.fill(WEB_QUESTION)
    page.locator("#ask").click()
    sources = page.locator("#sources a[target='_blank']")
    sources.first.wait_for(timeout=30_000)

    reply = page.locator("#chat [data-testid='bot']").last
    text = reply.inner_text()
    assert "UK rules" in text and "US rules" in text and "[1]" in text
    assert NOTICE[:40] in text
    assert sources.count() >= 2
    for href in sources.evaluate_all("links => links.map(a => a.href)"):
        assert href.startswith("https://")
    assert reply.locator("a[target='_blank']").count() >= 2  # sources in the reply open new tabs too

    # Screenshot with the top of the reply in view.
    page.wait_for_timeout(500)  # let the chat's autoscroll settle
    reply.evaluate(SCROLL_TO_TOP)
    page.evaluate("window.scrollTo(0, 0)")
    save_screenshot(page, artifacts, "web-chat.png")

    # Thumbs up is stored with the question and the answer id.
    reply_row = page.locator("#chat .message-row").last
    reply_row.hover()
    page.locator("#chat button[aria-label='Like']").last.click()
    store = Store(default_url(server["feedback"].parent), 90)
    deadline = time.monotonic() + 10
    while not store.feedback() and time.monotonic() < deadline:
        time.sleep(0.2)
    record = store.feedback()[-1]
    assert record["rating"] == "up" and record["source"] == "web" and len(record["answer_id"]) == 32
    served = store.answer(record["answer_id"])
    assert served is not None and served["question"] == WEB_QUESTION  # the audit log holds what was shown

    # A follow-up keeps the conversation's context.
    question.fill("And what about tax on it?")
    page.locator("#ask").click()
    follow_up = page.locator("#chat [data-testid='bot']").nth(1)
    follow_up.wait_for(timeout=30_000)
    page.wait_for_function(
        "() => document.querySelectorAll('#chat [data-testid=\"bot\"]')[1].innerText.includes('not personal')",
        timeout=30_000,
    )
    understood = follow_up.inner_text()
    assert "You live in the UK" in understood and "about tax" in understood  # context from turn one
    page.close()


def test_widget_on_another_origin_answers_with_citations(browser: Any, server: dict[str, Any], artifacts: Path) -> None:
    # The bot allows the demo key only on the port reserved for the host page.
    with DemoHost(server["url"], port=server["demo_port"]) as host:
        assert host.origin != server["url"]
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        requests: list[Any] = []
        page.on("request", lambda r: requests.append(r) if "/v1/" in r.url else None)
        page.goto(host.origin + "/demo-portal.html", wait_until="domcontentloaded")
        launcher = page.locator("#crypto-guidance-widget .launcher")
        launcher.wait_for(timeout=15_000)
        launcher.click()
        panel = page.locator("#crypto-guidance-widget .panel")
        assert panel.is_visible()
        assert NOTICE[:40] in panel.locator(".notice").inner_text()
        page.locator("#crypto-guidance-widget textarea").fill(WIDGET_QUESTION)
        page.locator("#crypto-guidance-widget textarea").press("Enter")

        reply = page.locator("#crypto-guidance-widget .msg.bot[data-answer-id]")
        reply.wait_for(timeout=30_000)
        assert reply.get_attribute("data-kind") == "answer"
        assert "FSCS" in reply.inner_text()
        markers = reply.locator("sup a[data-citation]")
        assert markers.count() >= 1
        links = reply.locator(".sources a[target='_blank']")
        assert links.count() >= 1
        assert all(h.startswith("https://") for h in links.evaluate_all("ls => ls.map(a => a.href)"))
        assert any("fscs.org.uk" in h for h in links.evaluate_all("ls => ls.map(a => a.href)"))
        # A marker points at an entry of the sources list.
        target = markers.first.get_attribute("href")
        assert target and reply.locator(target).count() == 1

        # The widget traded its publishable key for a session token, cross-origin.
        api_calls = [(r.url, r.all_headers().get("origin")) for r in requests if r.method == "POST"]
        assert (f"{server['url']}/v1/sessions", host.origin) in api_calls
        assert (f"{server['url']}/v1/answers/stream", host.origin) in api_calls
        reply.evaluate("node => node.previousElementSibling.scrollIntoView({block: 'start'})")
        save_screenshot(page, artifacts, "widget.png")
        page.close()


def test_widget_refused_on_an_origin_not_allowed(browser: Any, server: dict[str, Any]) -> None:
    with DemoHost(server["url"]) as host:  # a free port that the bot does not allow
        page = browser.new_page()
        page.goto(host.origin + "/demo-portal.html", wait_until="domcontentloaded")
        page.locator("#crypto-guidance-widget .launcher").click()
        page.locator("#crypto-guidance-widget textarea").fill(WIDGET_QUESTION)
        page.locator("#crypto-guidance-widget textarea").press("Enter")
        error = page.locator("#crypto-guidance-widget .msg.error")
        error.wait_for(timeout=15_000)
        assert "⚠" in error.inner_text()
        page.close()
