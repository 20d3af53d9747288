"""The Gradio web chat mounted at `/` of the API app: streaming cited answers in a compact form
(the first point of each side, "show more" for the rest; web_render.py), [n] markers that link to the
sources panel, a jurisdiction selector, example questions, the not-advice notice and thumbs up/down
feedback."""

from __future__ import annotations

import html
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
from fastapi import FastAPI  # noqa: E402

from bot.core import Bot  # noqa: E402
from bot.errors import BotError  # noqa: E402
from bot.prompts import NOTICE  # noqa: E402
from bot.server.store import Store  # noqa: E402
from bot.server.web_render import compact_answer, sources_html  # noqa: E402
from bot.types import Answer  # noqa: E402

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
MAX_QUESTION_CHARS = 2000  # answer.max_question_chars, unless the server passes its own
# Colours chosen for at least 4.5:1 contrast (WCAG AA) on their backgrounds; the Soft theme's
# label (3.6:1), example-label (4.3:1) and primary-button (4.47:1) colours are below it.
CSS = """
#notice { border-left: 4px solid #b45309; background: #fffbeb; color: #78350f; padding: 8px 12px;
          border-radius: 6px; }
#sources .source { margin: 0 0 10px 0; font-size: 0.92em; line-height: 1.35; border-radius: 6px; padding: 2px 4px; }
#sources .source .meta { color: #4b5563; font-size: 0.9em; }
#sources .source.highlight { background: #fef3c7; outline: 2px solid #b45309; }
#sources h2 { margin: 4px 0 8px 0; font-size: 1.15em; }
#sources .empty { color: #4b5563; }
#sources .answer-sources h3 { margin: 0 0 6px 0; font-size: 0.95em; color: #374151; }
#chat a.cite { text-decoration: none; font-weight: 600; }
#chat details.more summary { cursor: pointer; font-weight: 600; color: #1e40af; margin: 6px 0; }
#chat .message-row:has(.bot-error) + .message-buttons { display: none !important; }
#question-count { font-size: 0.85em; color: #4b5563; text-align: right; margin-top: -6px; }
#question-count.near { color: #92400e; font-weight: 600; }
"""
# Page script: marker links open their answer's sources in the panel; the chat shows the start of each
# new answer (not its end); the question box counts its characters.
HEAD = """
<script>
(() => {
  const cite = (event) => {
    const link = event.target.closest && event.target.closest('a[href^="#src-"]');
    if (!link) return;
    event.preventDefault();
    const target = document.getElementById(link.getAttribute('href').slice(1));
    if (!target) return;
    document.querySelectorAll('#sources .answer-sources').forEach((group) => {
      group.hidden = !group.contains(target);
    });
    document.querySelectorAll('#sources .source.highlight').forEach((node) => node.classList.remove('highlight'));
    target.classList.add('highlight');
    target.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    const anchor = target.querySelector('a');
    if (anchor) anchor.focus({ preventScroll: true });
  };
  document.addEventListener('click', cite, true);

  const showStart = (message) => {
    const log = message.closest('[role=log]');
    if (log) log.scrollTop += message.getBoundingClientRect().top - log.getBoundingClientRect().top - 8;
    const top = message.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight - 120) window.scrollBy(0, top - 80);
  };
  let answers = 0;
  const watch = () => {
    const bots = document.querySelectorAll('#chat [data-testid="bot"]');
    if (bots.length > answers) showStart(bots[bots.length - 1]);
    answers = bots.length;
  };
  window.botShowAnswerStart = () => {
    const bots = document.querySelectorAll('#chat [data-testid="bot"]');
    if (bots.length) showStart(bots[bots.length - 1]);
  };

  const count = () => {
    const box = document.querySelector('#question textarea');
    const counter = document.getElementById('question-count');
    if (!box || !counter) return;
    const limit = Number(counter.dataset.limit);
    const used = box.value.length;
    if (!box.getAttribute('aria-describedby')) box.setAttribute('aria-describedby', 'question-count');
    const text = `${used.toLocaleString('en-GB')} / ${limit.toLocaleString('en-GB')} characters`;
    if (counter.textContent === text) return;  // unchanged: no write, so the observer does not loop
    counter.textContent = text;
    counter.classList.toggle('near', used >= limit * 0.9);
    counter.setAttribute('aria-live', used >= limit * 0.9 ? 'polite' : 'off');
  };
  document.addEventListener('input', (event) => {
    if (event.target.closest && event.target.closest('#question')) count();
  });
  new MutationObserver(() => { watch(); count(); })
    .observe(document.documentElement, { childList: true, subtree: true });
})();
</script>
"""
SHOW_ANSWER_START = "() => { if (window.botShowAnswerStart) window.botShowAnswerStart(); }"
ERROR_MARK = '<span class="bot-error"></span>'  # CSS hides the rating buttons of error messages


def _message(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def jurisdiction_param(value: str | None) -> list[str] | None:
    """UI choice -> Bot.ask jurisdictions: UK or US restricts; 'both' lets the question decide."""
    if not value:
        return None
    upper = value.strip().upper()
    return [upper] if upper in ("UK", "US") else None


class _ChatEvents:
    """What the chat's events do: answer a question line by line, and record a thumbs up or down."""

    def __init__(self, get_bot: Callable[[], Bot], feedback: Store) -> None:
        self.get_bot = get_bot
        self.feedback = feedback

    def respond(
        self,
        question: str,
        jurisdiction: str,
        messages: list[dict[str, Any]] | None,
        turns: list[dict[str, str]] | None,
        answers: list[Answer] | None,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream the answer into the chat: (messages, question box, sources panel, turns, answers)."""
        messages = list(messages or [])
        turns = list(turns or [])
        answers = list(answers or [])
        question = (question or "").strip()
        if not question:
            gr.Warning("Type a question first.")
            yield messages, "", gr.skip(), turns, answers
            return
        messages.append({"role": "user", "content": question})
        messages.append(_message("Checking the official sources…"))
        yield messages, "", gr.skip(), turns, answers
        answer: Answer | None = None
        try:
            for item in self._lines(question, jurisdiction, turns):
                if isinstance(item, Answer):
                    answer = item
                    break
                messages[-1] = _message(item)
                yield messages, "", gr.skip(), turns, answers
                time.sleep(STREAM_PAUSE)
        except BotError as exc:  # the question stays in the box, to be edited
            messages[-1] = _message(f"{ERROR_MARK}⚠️ {html.escape(str(exc))}")
            turns.append({"question": question, "answer_id": ""})
            yield messages, question, gr.skip(), turns, answers
            return
        assert answer is not None
        try:
            self.feedback.record(answer, surface="web", caller="web")
        except BotError:
            log.exception("could not log the web chat's answer %s", answer.id)
        turns.append({"question": question, "answer_id": answer.id})
        answers.append(answer)
        messages[-1] = _message(compact_answer(answer))
        yield messages, "", sources_html(answers), turns, answers

    def _lines(self, question: str, jurisdiction: str, turns: list[dict[str, str]]) -> Iterator[str | Answer]:
        """The answer's text so far after each streamed line, then the finished answer."""
        shown: list[str] = []
        stream = self.get_bot().ask_stream(
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
                yield event.answer
                return
            yield "\n\n".join(shown) or "Checking the official sources…"

    def on_feedback(self, data: gr.LikeData, turns: list[dict[str, str]] | None, request: gr.Request) -> None:
        """Record (or, when the active thumb is clicked again, withdraw) the rating of an answer."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turn_number = (int(index) - 1) // 2  # messages alternate user, assistant
        if not turns or not 0 <= turn_number < len(turns) or not turns[turn_number]["answer_id"]:
            return
        turn = turns[turn_number]
        caller = f"web:{request.session_hash or '-'}"
        rating: Literal["up", "down"]
        if data.liked in (True, "Like"):
            rating = "up"
        elif data.liked in (False, "Dislike"):
            rating = "down"
        else:  # the active thumb clicked again: no rating
            self.feedback.withdraw(answer_id=turn["answer_id"], caller=caller)
            return
        try:
            self.feedback.add(answer_id=turn["answer_id"], rating=rating, source="web", caller=caller)
        except BotError as exc:
            gr.Warning(f"Your feedback could not be recorded: {exc}")
            return
        gr.Info("Thanks: your feedback was recorded.")


@dataclass
class _Page:
    """The chat page's components that events read or write."""

    jurisdiction: gr.Radio
    chatbot: gr.Chatbot
    question: gr.Textbox
    ask: gr.Button
    clear: gr.Button
    panel: gr.HTML


def build_web_chat(
    get_bot: Callable[[], Bot], feedback: Store, max_question_chars: int = MAX_QUESTION_CHARS
) -> gr.Blocks:
    """The Blocks of the web chat; `get_bot` raises NotReadyError while the bot is loading."""
    events = _ChatEvents(get_bot, feedback)
    with gr.Blocks(title=TITLE, analytics_enabled=False) as blocks:
        turns = gr.State([])
        answers = gr.State([])
        page = _page(max_question_chars)
        outputs = [page.chatbot, page.question, page.panel, turns, answers]
        inputs = [page.question, page.jurisdiction, page.chatbot, turns, answers]
        for trigger in (page.question.submit, page.ask.click):
            trigger(events.respond, inputs, outputs, api_visibility="private", concurrency_limit=CONCURRENCY).then(
                None, None, None, js=SHOW_ANSWER_START
            )
        page.chatbot.like(events.on_feedback, [turns], None, api_visibility="private")
        page.clear.click(lambda: ([], "", sources_html(None), [], []), None, outputs, api_visibility="private")
    return blocks


def _page(max_question_chars: int) -> _Page:
    """Lay out the page: title, notice, jurisdiction, chat, question box and examples; sources beside."""
    gr.Markdown(f"# {TITLE}\nAnswers quote official UK and US guidance and link every source.")
    gr.HTML(
        f'<div id="notice-text" role="note"><strong>Not advice.</strong> {html.escape(NOTICE)}</div>',
        elem_id="notice",
    )
    with gr.Row():
        with gr.Column(scale=3):
            jurisdiction = gr.Radio(
                list(JURISDICTIONS), value="UK and US", label="Jurisdiction", elem_id="jurisdiction"
            )
            chatbot = gr.Chatbot(
                label="Chat",
                show_label=False,
                elem_id="chat",
                height=560,
                autoscroll=False,  # the page script shows each answer's start instead of its end
                buttons=["copy"],
                feedback_options=("Like", "Dislike"),
                placeholder="Ask about crypto-asset or stablecoin rules in the UK or US.",
            )
            question, ask = _question_box(max_question_chars)
            gr.Examples(EXAMPLES, inputs=[question], label="Example questions")
            clear = gr.Button("New conversation", size="sm", elem_id="clear")
        with gr.Column(scale=2):
            panel = gr.HTML(sources_html(None), elem_id="sources")
    return _Page(jurisdiction, chatbot, question, ask, clear, panel)


def _question_box(max_question_chars: int) -> tuple[gr.Textbox, gr.Button]:
    """The question box and its Ask button, with the character count under them."""
    with gr.Row():
        # No autofocus: it scrolled the page past the title and the notice on load.
        question = gr.Textbox(
            label="Your question",
            show_label=False,
            placeholder="Type your question…",
            scale=5,
            elem_id="question",
            max_lines=4,
            max_length=max_question_chars,
        )
        ask = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
    gr.HTML(
        f'<div id="question-count" data-limit="{max_question_chars}">0 / {max_question_chars:,} characters</div>',
        padding=False,
    )
    return question, ask


def theme() -> gr.themes.Base:
    """The Soft theme with label, example and button colours at 4.5:1 contrast or more."""
    return gr.themes.Soft().set(
        block_label_text_color="#374151",
        block_title_text_color="#374151",
        body_text_color_subdued="#4b5563",
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_text_color="#ffffff",
        checkbox_label_background_fill_selected="*primary_700",
        checkbox_label_text_color_selected="#ffffff",
    )


def mount_web_chat(
    app: FastAPI,
    get_bot: Callable[[], Bot],
    feedback: Store,
    max_question_chars: int = MAX_QUESTION_CHARS,
) -> FastAPI:
    """Mount the web chat at `/` (after the API routes, which keep precedence)."""
    from bot.server.holding_tab import with_holding_tab

    blocks = with_holding_tab(build_web_chat(get_bot, feedback, max_question_chars), get_bot)
    return gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        ssr_mode=False,
        footer_links=[],
        theme=theme(),
        css=CSS,
        head=HEAD,
        show_error=True,
    )
