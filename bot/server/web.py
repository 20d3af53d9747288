"""The Gradio web chat mounted at `/` of the API app: streaming cited answers, a sources panel,
a jurisdiction selector, example questions, the not-advice notice and thumbs up/down feedback."""

from __future__ import annotations

import html
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
from fastapi import FastAPI  # noqa: E402

from bot.core import Bot  # noqa: E402
from bot.errors import BotError  # noqa: E402
from bot.prompts import NOTICE  # noqa: E402
from bot.render import STATUS_LABELS  # noqa: E402
from bot.server.store import Store  # noqa: E402
from bot.types import Answer, answer_lines  # noqa: E402

log = logging.getLogger("bot.server")

TITLE = "Crypto-asset and stablecoin guidance (UK and US)"
JURISDICTIONS = {"UK and US": "both", "UK only": "UK", "US only": "US"}
EXAMPLES = [
    "I live in Bristol and keep USDC on a US exchange; what protects me if it fails?",
    "How much capital gains tax does HMRC charge on crypto and what is the annual exempt amount?",
    "Is crypto held at a US exchange covered by SIPC or FDIC insurance?",
    "How do I check that a crypto firm is authorised by the FCA?",
]
STREAM_PAUSE = 0.03  # seconds between streamed lines, so the reply visibly builds up
CONCURRENCY = 4  # chats answered at once (Bot.ask is thread-safe; the rest wait in Gradio's queue)
CSS = """
#notice { border-left: 4px solid #b45309; background: #fffbeb; color: #78350f; padding: 8px 12px;
          border-radius: 6px; }
#sources .source { margin: 0 0 10px 0; font-size: 0.92em; line-height: 1.35; }
#sources .source .meta { color: #4b5563; font-size: 0.9em; }
#sources h3 { margin: 4px 0 8px 0; }
#sources .empty { color: #6b7280; }
"""
SECTION_NAMES = {"UK": "UK", "US": "US", "INTL": "International"}


def sources_markdown(answer: Answer) -> str:
    """Numbered Markdown links to the cited official pages."""
    if not answer.citations:
        return ""
    lines = ["**Sources**"]
    for number, c in sorted(answer.citations.items()):
        lines.append(
            f"- **[{number}]** {c.publisher} ({c.jurisdiction}): [{c.title}]({c.url}), section "
            f'"{c.section}" ({c.locator})'
        )
    return "\n".join(lines)


def sources_html(answer: Answer | None) -> str:
    """The sources panel: every citation with a link that opens the official page in a new tab."""
    if answer is None or not answer.citations:
        note = "Ask a question: the official sources behind the answer appear here."
        if answer is not None:
            note = "This answer cites no sources."
        return f'<div id="sources-panel"><h3>Sources</h3><p class="empty">{note}</p></div>'
    items = []
    for number, c in sorted(answer.citations.items()):
        status = STATUS_LABELS.get(c.status, c.status)  # the composer's labels: a proposal says so
        items.append(
            f'<div class="source" data-citation="{number}"><strong>[{number}]</strong> '
            f'<a href="{html.escape(c.url, quote=True)}" target="_blank" rel="noopener noreferrer">'
            f'{html.escape(c.title)}</a><br><span class="meta">{html.escape(c.publisher)} · '
            f"{html.escape(SECTION_NAMES.get(c.jurisdiction, c.jurisdiction))} · section "
            f"\u201c{html.escape(c.section)}\u201d ({html.escape(c.locator)}) · "
            f"{html.escape(status)} · "
            f"published {c.published.isoformat()}</span></div>"
        )
    return '<div id="sources-panel"><h3>Sources</h3>' + "".join(items) + "</div>"


def _message(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def jurisdiction_param(value: str | None) -> list[str] | None:
    """UI choice -> Bot.ask jurisdictions: UK or US restricts; 'both' lets the question decide."""
    if not value:
        return None
    upper = value.strip().upper()
    return [upper] if upper in ("UK", "US") else None


def build_web_chat(get_bot: Callable[[], Bot], feedback: Store) -> gr.Blocks:
    """The Blocks of the web chat; `get_bot` raises NotReadyError while the bot is loading."""

    def respond(
        question: str,
        jurisdiction: str,
        messages: list[dict[str, Any]] | None,
        turns: list[dict[str, str]] | None,
    ) -> Iterator[tuple[Any, ...]]:
        messages = list(messages or [])
        turns = list(turns or [])
        question = (question or "").strip()
        if not question:
            gr.Warning("Type a question first.")
            yield messages, "", gr.skip(), turns
            return
        messages.append({"role": "user", "content": question})
        messages.append(_message("Checking the official sources…"))
        yield messages, "", gr.skip(), turns
        shown: list[str] = []
        answer: Answer | None = None
        try:
            stream = get_bot().ask_stream(
                question,
                history=[t["question"] for t in turns] or None,
                jurisdictions=jurisdiction_param(JURISDICTIONS.get(jurisdiction, "both")),
            )
            for event in stream:
                if event.type == "line":
                    shown.append(event.text)
                elif event.type == "reset":
                    shown = []  # an LLM answer was abandoned for the extractive one
                elif event.answer is not None:
                    answer = event.answer
                    break
                messages[-1] = _message("\n\n".join(shown) or "Checking the official sources…")
                yield messages, "", gr.skip(), turns
                time.sleep(STREAM_PAUSE)
        except BotError as exc:
            messages[-1] = _message(f"⚠️ {exc}")
            turns.append({"question": question, "answer_id": ""})
            yield messages, question, gr.skip(), turns
            return
        assert answer is not None
        try:
            feedback.record(answer, surface="web", caller="web")
        except BotError:
            log.exception("could not log the web chat's answer %s", answer.id)
        turns.append({"question": question, "answer_id": answer.id})
        tail = [part for part in (sources_markdown(answer), f"_{NOTICE}_") if part]
        messages[-1] = _message("\n\n".join([*answer_lines(answer), *tail]))
        yield messages, "", sources_html(answer), turns

    def on_feedback(data: gr.LikeData, turns: list[dict[str, str]] | None) -> None:
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turn_number = (int(index) - 1) // 2  # messages alternate user, assistant
        if not turns or not 0 <= turn_number < len(turns) or not turns[turn_number]["answer_id"]:
            return
        rating: Literal["up", "down"]
        if data.liked in (True, "Like"):
            rating = "up"
        elif data.liked in (False, "Dislike"):
            rating = "down"
        else:
            return
        turn = turns[turn_number]
        try:
            feedback.add(answer_id=turn["answer_id"], rating=rating, source="web", caller="web")
        except BotError as exc:
            gr.Warning(f"Your feedback could not be recorded: {exc}")
            return
        gr.Info("Thanks: your feedback was recorded.")

    with gr.Blocks(title=TITLE, analytics_enabled=False) as blocks:
        turns = gr.State([])
        gr.Markdown(f"# {TITLE}\nAnswers quote official UK and US guidance and link every source.")
        gr.HTML(
            f'<div id="notice-text" role="note"><strong>Not advice.</strong> {html.escape(NOTICE)}</div>',
            elem_id="notice",
        )
        with gr.Row():
            with gr.Column(scale=3):
                jurisdiction = gr.Radio(
                    list(JURISDICTIONS),
                    value="UK and US",
                    label="Jurisdiction",
                    elem_id="jurisdiction",
                )
                chatbot = gr.Chatbot(
                    label="Chat",
                    show_label=False,
                    elem_id="chat",
                    height=560,
                    buttons=["copy"],
                    feedback_options=("Like", "Dislike"),
                    placeholder="Ask about crypto-asset or stablecoin rules in the UK or US.",
                )
                with gr.Row():
                    question = gr.Textbox(
                        show_label=False,
                        placeholder="Type your question…",
                        scale=5,
                        elem_id="question",
                        max_lines=4,
                        autofocus=True,
                    )
                    ask = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                gr.Examples(EXAMPLES, inputs=[question], label="Example questions")
                clear = gr.Button("New conversation", size="sm", elem_id="clear")
            with gr.Column(scale=2):
                panel = gr.HTML(sources_html(None), elem_id="sources")

        outputs = [chatbot, question, panel, turns]
        inputs = [question, jurisdiction, chatbot, turns]
        for trigger in (question.submit, ask.click):
            trigger(respond, inputs, outputs, api_visibility="private", concurrency_limit=CONCURRENCY)
        chatbot.like(on_feedback, [turns], None, api_visibility="private")
        clear.click(lambda: ([], "", sources_html(None), []), None, outputs, api_visibility="private")
    return blocks


def mount_web_chat(app: FastAPI, get_bot: Callable[[], Bot], feedback: Store) -> FastAPI:
    """Mount the web chat at `/` (after the API routes, which keep precedence)."""
    from bot.server.holding_tab import with_holding_tab

    blocks = with_holding_tab(build_web_chat(get_bot, feedback), get_bot)
    return gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        ssr_mode=False,
        footer_links=[],
        theme=gr.themes.Soft(),
        css=CSS,
        show_error=True,
    )
