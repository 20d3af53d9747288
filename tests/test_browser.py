"""Browser tests: `bot serve` as a real process, driven by Debian's Chromium through Playwright.

(1) The web chat at / answers with cited sources whose links open the official pages: the title and
    notice stay in view on load, the answer's start is shown, [n] markers open their source, the
    thumbs toggle one rating, errors have no thumbs, and axe-core finds no serious violation.
(2) The widget embedded in a mock support portal on another origin answers with citations, greets
    with example questions, closes on Escape, rates answers, and says so kindly on a refused origin.
(3) /docs and /redoc render with the network blocked.
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
# axe-core from the npm registry, installed by `make browser` into the git-ignored .browser/.
AXE = ROOT / ".browser" / "node_modules" / "axe-core" / "axe.min.js"
# Where the answer's first line is, relative to the chat log's visible area and to the window.
ANSWER_START = """node => {
  const log = node.closest('[role=log]').getBoundingClientRect();
  const top = node.getBoundingClientRect().top;
  return {inLog: top - log.top, inWindow: top, logBottom: log.bottom, windowHeight: window.innerHeight};
}"""


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
        "BOT_SERVER__WEB_CHAT_OPEN": "true",  # a widget key closes the chat unless it is opened
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


def store(server: dict[str, Any]) -> Store:
    """The server's audit and feedback database."""
    return Store(default_url(server["feedback"].parent), 90)


def feedback_records(server: dict[str, Any], **match: str) -> list[dict[str, Any]]:
    return [r for r in store(server).feedback() if all(r.get(k) == v for k, v in match.items())]


def wait_for_records(server: dict[str, Any], count: int, **match: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while len(records := feedback_records(server, **match)) != count and time.monotonic() < deadline:
        time.sleep(0.2)
    return records


def open_chat(browser: Any, server: dict[str, Any], width: int = 1400, height: int = 1100) -> Any:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(server["url"] + "/", wait_until="domcontentloaded")
    page.locator("#question textarea").wait_for(timeout=30_000)
    return page


def ask_in_chat(page: Any, question: str) -> Any:
    """Ask and wait for the whole answer (its sources reach the panel); returns the reply."""
    answers = page.locator("#sources .answer-sources").count()
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    page.wait_for_function(
        f"() => document.querySelectorAll('#sources .answer-sources').length > {answers}", timeout=30_000
    )
    page.wait_for_timeout(600)  # the answer's start is shown after the last update
    return page.locator("#chat [data-testid='bot']").last


@pytest.mark.parametrize("viewport", [(1366, 768), (390, 844)], ids=["laptop", "phone"])
def test_web_chat_title_and_notice_stay_in_view_on_load(
    browser: Any, server: dict[str, Any], viewport: tuple[int, int]
) -> None:
    page = open_chat(browser, server, *viewport)
    page.wait_for_timeout(1500)  # anything that would scroll the page (autofocus did) has happened
    assert page.evaluate("window.scrollY") == 0
    for selector in ("h1", "#notice"):
        box = page.locator(selector).first.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport[1], selector
    # The question box has a name for screen readers and counts its characters.
    box = page.get_by_role("textbox", name="Your question")
    assert box.count() == 1 and box.get_attribute("maxlength") == "2000"
    box.fill("How is staking taxed?")
    assert page.locator("#question-count").inner_text() == "21 / 2,000 characters"
    assert box.get_attribute("aria-describedby") == "question-count"
    page.close()


def test_web_chat_answers_with_cited_sources(browser: Any, server: dict[str, Any], artifacts: Path) -> None:
    page = open_chat(browser, server)
    notice = page.locator("#notice")
    assert NOTICE[:60] in notice.inner_text()
    assert notice.is_visible()
    assert page.get_by_text("Example questions").is_visible()
    assert page.locator("#jurisdiction").get_by_text("UK only").is_visible()

    reply = ask_in_chat(page, WEB_QUESTION)
    sources = page.locator("#sources a[target='_blank']")
    text = reply.inner_text()
    assert "UK rules" in text and "US rules" in text and "[1]" in text
    assert NOTICE[:40] in text
    assert sources.count() >= 2
    for href in sources.evaluate_all("links => links.map(a => a.href)"):
        assert href.startswith("https://")
    assert reply.locator("a[target='_blank']").count() == 0  # sources are listed once, in the panel
    more = reply.locator("details.more")
    assert more.count() == 1 and "more point" in more.locator("summary").inner_text()

    # The chat shows the answer's start (not its end), in the chat log and in the window.
    place = reply.evaluate(ANSWER_START)
    assert 0 <= place["inLog"] <= 40, place
    assert 0 <= place["inWindow"] < place["windowHeight"] - 100, place

    # Screenshot with the top of the reply in view.
    page.evaluate("window.scrollTo(0, 0)")
    save_screenshot(page, artifacts, "web-chat.png")

    # A [n] marker is a link that shows its source in the panel.
    marker = reply.locator("a.cite").first
    target = marker.get_attribute("href")
    assert target and target.startswith("#src-")
    marker.click()
    source = page.locator(target)
    source.wait_for(timeout=5_000)
    assert "highlight" in (source.get_attribute("class") or "")
    box = source.bounding_box()
    assert box is not None and 0 <= box["y"] < page.viewport_size["height"]
    assert source.locator("a[target='_blank']").get_attribute("href", timeout=1_000).startswith("https://")

    # Thumbs: one active rating; the other thumb switches it, the same thumb again withdraws it.
    reply_row = page.locator("#chat .message-row").last
    reply_row.hover()
    page.locator("#chat button[aria-label='Like']").last.click()
    [record] = wait_for_records(server, 1, source="web")
    assert record["rating"] == "up" and len(record["answer_id"]) == 32 and record["caller"].startswith("web:")
    served = store(server).answer(record["answer_id"])
    assert served is not None and served["question"] == WEB_QUESTION  # the audit log holds what was shown
    reply_row.hover()
    page.locator("#chat button[aria-label='Dislike']").last.click()
    page.wait_for_timeout(500)
    [record] = wait_for_records(server, 1, source="web", rating="down")
    assert feedback_records(server, source="web") == [record]
    assert page.locator("#chat button[aria-label='Disliked']").count() == 1
    assert page.locator("#chat button[aria-label='Liked']").count() == 0
    page.locator("#chat button[aria-label='Disliked']").click()
    assert wait_for_records(server, 0, source="web") == []

    # A follow-up keeps the conversation's context; the first answer's markers still open its own sources.
    follow_up = ask_in_chat(page, "And what about tax on it?")
    understood = follow_up.inner_text()
    assert "You live in the UK" in understood and "about tax" in understood  # context from turn one
    page.locator("#chat [data-testid='bot']").first.locator("a.cite").first.click()
    assert page.locator(target).is_visible()
    page.close()


def test_web_chat_error_messages_have_no_thumbs(browser: Any, server: dict[str, Any]) -> None:
    page = open_chat(browser, server)
    ask_in_chat(page, WIDGET_QUESTION)
    box = page.locator("#question textarea")
    box.evaluate("node => node.removeAttribute('maxlength')")  # as a script or an old browser might
    box.fill("Is my crypto protected? " * 90)  # over the 2,000-character cap: the bot answers with an error
    page.locator("#ask").click()
    error = page.locator("#chat .message-row:has(.bot-error)")
    error.wait_for(timeout=30_000)
    assert "the limit is 2000" in error.inner_text()
    error.hover()
    hidden = page.locator("#chat .message-row:has(.bot-error) + .message-buttons button")
    assert hidden.count() > 0 and hidden.filter(visible=True).count() == 0
    page.locator("#chat .message-row").nth(1).hover()
    assert page.locator("#chat button[aria-label='Like']").filter(visible=True).count() == 1  # the answer's
    page.close()


def test_web_chat_has_no_serious_accessibility_violations(
    browser: Any, server: dict[str, Any], artifacts: Path
) -> None:
    if not AXE.exists():
        pytest.skip("axe-core is missing: `make browser` installs it from the npm registry into .browser/.")
    page = open_chat(browser, server, 1366, 768)
    ask_in_chat(page, WEB_QUESTION)  # the check covers an answer, its markers and the sources panel
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}))"""
    )
    (artifacts / "axe-web-chat.json").write_text(json.dumps(violations, indent=2))
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], json.dumps(serious, indent=2)
    page.close()


def test_api_docs_render_with_the_network_blocked(browser: Any, server: dict[str, Any]) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    blocked: list[str] = []

    def only_the_bot(route: Any) -> None:
        if route.request.url.startswith(server["url"] + "/"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_bot)
    page = context.new_page()
    page.goto(server["url"] + "/docs", wait_until="domcontentloaded")
    page.locator(".swagger-ui .info .title").wait_for(timeout=20_000)
    assert "crypto guidance bot API" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock").count() >= 6
    page.locator("button.authorize").click()
    dialog = page.locator(".dialog-ux")
    dialog.wait_for(timeout=5_000)
    assert "X-API-Key" in dialog.inner_text() and "Bearer" in dialog.inner_text()
    page.goto(server["url"] + "/redoc", wait_until="domcontentloaded")
    page.locator("h1").first.wait_for(timeout=20_000)
    assert "crypto guidance bot API" in page.locator("h1").first.inner_text()
    assert page.locator("h2").filter(has_text="Answer a question, with citations").count() == 1
    # Nothing the pages need comes from elsewhere: only ReDoc's "API docs by Redocly" footer logo,
    # which its bundle hard-codes, is missing offline.
    assert [url for url in blocked if url != "https://cdn.redoc.ly/redoc/logo-mini.svg"] == []
    context.close()


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
        # A greeting with example questions; Escape closes the panel and gives the launcher focus.
        greeting = panel.locator(".msg.greeting")
        assert "UK and US rules" in greeting.inner_text()
        assert greeting.locator(".examples button").count() == 3
        page.keyboard.press("Escape")
        assert not panel.is_visible() and launcher.get_attribute("aria-expanded") == "false"
        assert page.evaluate("document.activeElement.shadowRoot.activeElement.className") == "launcher"
        launcher.click()
        assert panel.is_visible() and panel.locator(".msg.greeting").count() == 1
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

        # Thumbs feed the same feedback store; the other thumb switches the rating.
        answer_id = reply.get_attribute("data-answer-id")
        assert answer_id
        up, down = reply.locator(".rate button[data-rating='up']"), reply.locator(".rate button[data-rating='down']")
        up.click()
        [record] = wait_for_records(server, 1, answer_id=answer_id)
        assert record["rating"] == "up" and store(server).answer(answer_id)["question"] == WIDGET_QUESTION  # type: ignore[index]
        assert record["source"] == "api" and record["caller"].startswith("session:")
        down.click()
        page.wait_for_function(
            "() => document.querySelector('#crypto-guidance-widget').shadowRoot"
            ".querySelector('.rate button[data-rating=down]').getAttribute('aria-pressed') === 'true'"
        )
        assert [r["rating"] for r in feedback_records(server, answer_id=answer_id)] == ["down"]
        assert up.get_attribute("aria-pressed") == "false"
        assert page.locator("#crypto-guidance-widget .msg.greeting .rate").count() == 0
        if AXE.exists():  # the widget's own markup (axe-core reads its open shadow root)
            page.add_script_tag(path=str(AXE))
            impacts = page.evaluate(
                "async () => (await axe.run(document.querySelector('#crypto-guidance-widget')))"
                ".violations.map(v => `${v.impact} ${v.id}`)"
            )
            assert [i for i in impacts if i.split()[0] in ("serious", "critical")] == [], impacts
        page.close()


def test_widget_refused_on_an_origin_not_allowed(browser: Any, server: dict[str, Any]) -> None:
    with DemoHost(server["url"]) as host:  # a free port that the bot does not allow
        page = browser.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
        page.goto(host.origin + "/demo-portal.html", wait_until="domcontentloaded")
        page.locator("#crypto-guidance-widget .launcher").click()
        # The visitor is told kindly, before typing anything; the developer finds the reason in the console.
        error = page.locator("#crypto-guidance-widget .msg.error")
        error.wait_for(timeout=15_000)
        assert "not available on this page" in error.inner_text()
        assert "CORS" not in error.inner_text() and "publishable" not in error.inner_text()
        assert page.locator("#crypto-guidance-widget textarea").is_disabled()
        reasons = [line for line in console if line.startswith("[crypto guidance widget]")]
        assert reasons and host.origin in reasons[0] and "server.publishable_keys" in reasons[0]
        page.close()
    # ... and the operator in the server log, with the origin and the reason.
    deadline = time.monotonic() + 5
    while f"CORS preflight refused for origin {host.origin}" not in server["log"].read_text():
        assert time.monotonic() < deadline, server["log"].read_text()[-2000:]
        time.sleep(0.2)
    assert "Disallowed CORS origin" in server["log"].read_text()
