"""The web chat's "My holding" tab: a small form, then the UK/US/gap matrix and the timeline, printable."""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Callable
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from bot.core import Bot  # noqa: E402
from bot.errors import BotError  # noqa: E402
from bot.holding import (  # noqa: E402
    ASSET_LABELS,
    CONCERNS,
    Cell,
    Holding,
    HoldingQuote,
    HoldingReport,
    build_holding,
    prefill,
)

RESIDENCE = {"UK": "UK", "US": "US", "Elsewhere": "elsewhere"}
CITIZENSHIP = {"UK": "UK", "US": "US", "UK and US": "both", "Neither": "other"}
REGULATED: dict[str, bool | None] = {"Yes": True, "No": False, "Don't know": None}
ASSETS = {label[0].upper() + label[1:]: key for key, label in ASSET_LABELS.items()}
CUSTODY = {"On the platform": "exchange", "In my own wallet": "self"}
STATE_LABELS = {"applies": "Applies", "nothing_applies": "Nothing applies", "missing": "Missing"}
SIDE_HEADINGS = {"UK": "UK", "US": "US", "gap": "Gap (neither side)"}
# Printing shows only the report: the form, the chat and Gradio's chrome are hidden.
STYLE = """<style>
#holding-report table.holding { border-collapse: collapse; width: 100%; font-size: 0.92em; }
#holding-report th, #holding-report td { border: 1px solid #d1d5db; padding: 6px 8px; vertical-align: top; }
#holding-report th { background: #f3f4f6; text-align: left; }
#holding-report .state { font-weight: 600; display: block; margin-bottom: 4px; }
#holding-report .applies .state { color: #166534; }
#holding-report .nothing_applies .state { color: #92400e; }
#holding-report .missing { background: #f9fafb; color: #6b7280; }
#holding-report blockquote { margin: 6px 0 2px 0; padding-left: 8px; border-left: 3px solid #9ca3af; }
#holding-report .cite, #holding-report .when { color: #4b5563; font-size: 0.88em; }
#holding-report .past { color: #6b7280; }
@media print {
  body * { visibility: hidden; }
  #holding-report, #holding-report * { visibility: visible; }
  #holding-report { position: absolute; left: 0; top: 0; width: 100%; }
}
</style>"""
EMPTY = '<div id="holding-output"><p class="empty">Fill in the form and press "Show my holding".</p></div>'


def _quote_html(quote: HoldingQuote) -> str:
    return (
        f"<blockquote>{html.escape(quote.text)}</blockquote>"
        f'<div class="cite">{html.escape(quote.publisher)}: <a href="{html.escape(quote.url, quote=True)}" '
        f'target="_blank" rel="noopener noreferrer">{html.escape(quote.title)}</a>, section '
        f"\u201c{html.escape(quote.section)}\u201d ({html.escape(quote.locator)}) · {html.escape(quote.status_label)}"
        "</div>"
    )


def _cell_html(cell: Cell) -> str:
    quotes = "".join(_quote_html(q) for q in cell.quotes)
    return (
        f'<td class="cell {cell.state}" data-concern="{cell.concern}" data-side="{cell.side}">'
        f'<span class="state">{STATE_LABELS[cell.state]}</span>{html.escape(cell.reason)}{quotes}</td>'
    )


def holding_html(report: HoldingReport) -> str:
    """The report as HTML: the matrix table, then the timeline."""
    sides = list(next(iter(report.matrix.values())))
    head = "".join(f"<th>{SIDE_HEADINGS[side]}</th>" for side in sides)
    rows = "".join(
        f'<tr data-concern="{concern}"><th>{html.escape(CONCERNS[concern])}</th>'
        + "".join(_cell_html(cell) for cell in row.values())
        + "</tr>"
        for concern, row in report.matrix.items()
    )
    events = "".join(
        f'<li class="{"past" if e.past else "coming"}" data-date="{e.date.isoformat()}">'
        f"<strong>{e.date:%-d %B %Y}</strong> ({'past' if e.past else 'coming'}): {html.escape(e.text)} "
        f'<span class="cite">[<a href="{html.escape(e.quote.url, quote=True)}" target="_blank" '
        f'rel="noopener noreferrer">{html.escape(e.quote.publisher)}</a>; '
        f"{html.escape(e.quote.status_label)}]</span></li>"
        for e in report.timeline
    )
    timeline = f'<ol id="holding-timeline">{events}</ol>' if events else "<p>No dated events in this window.</p>"
    return (
        f'<div id="holding-output"><h3>My holding, as of {report.as_of:%-d %B %Y}</h3>'
        f"<p>{html.escape(report.summary)}</p>"
        f'<table class="holding" id="holding-matrix"><thead><tr><th>Concern</th>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table>"
        f'<h3>Timeline</h3><p class="when">The 12 months before and the 24 months after '
        f"{report.as_of:%-d %B %Y}.</p>{timeline}<p><em>{html.escape(report.notice)}</em></p></div>"
    )


def show_holding(
    get_bot: Callable[[], Bot],
    residence: str,
    citizenship: str,
    platform: str,
    regulated: str,
    asset: str,
    custody: str,
    as_of: str,
) -> str:
    """Form values -> the report's HTML (or the error, in words)."""
    try:
        day = dt.date.fromisoformat(as_of.strip()) if as_of and as_of.strip() else None
    except ValueError:
        return (
            f'<div id="holding-output"><p class="error">"{html.escape(as_of)}" is not a date; use YYYY-MM-DD.</p></div>'
        )
    try:
        bot = get_bot()
        holding = Holding(
            residence=RESIDENCE[residence],  # type: ignore[arg-type]
            citizenship=CITIZENSHIP[citizenship],  # type: ignore[arg-type]
            platform=RESIDENCE[platform],  # type: ignore[arg-type]
            platform_regulated=REGULATED[regulated],
            asset=ASSETS[asset],  # type: ignore[arg-type]
            custody=CUSTODY[custody],  # type: ignore[arg-type]
        )
        report = build_holding(holding, bot.index.documents, day, statuses=bot.settings.retrieval.statuses)
    except BotError as exc:
        return f'<div id="holding-output"><p class="error">{html.escape(str(exc))}</p></div>'
    return holding_html(report)


def _label(choices: dict[str, Any], value: str) -> str:
    return next(label for label, key in choices.items() if key == value)


def fill_form(questions: list[str]) -> list[Any]:
    """Form updates (residence, citizenship, platform, asset, custody) from the investor's words; a field the
    words do not settle is left as it is."""
    values = prefill(questions)
    fields = (("residence", RESIDENCE), ("citizenship", CITIZENSHIP), ("platform", RESIDENCE), ("asset", ASSETS))
    updates: list[Any] = [
        gr.update(value=_label(choices, values[name])) if name in values else gr.skip() for name, choices in fields
    ]
    updates.append(gr.update(value=_label(CUSTODY, values["custody"])) if "custody" in values else gr.skip())
    if not values:
        gr.Warning("Nothing in those words says where you live, where the platform is or what you hold.")
    return updates


def _user_questions(messages: list[dict[str, Any]] | None) -> list[str]:
    return [m["content"] for m in messages or [] if m.get("role") == "user" and isinstance(m.get("content"), str)]


def build_holding_tab(get_bot: Callable[[], Bot], chatbot: gr.Chatbot | None = None) -> None:
    """The tab's components, inside the current Blocks; with the chat's Chatbot, a button fills the form from
    what the chat understood."""
    gr.Markdown(
        "Where you live, where your platform is and what you hold decide which UK and US rules reach you. "
        "Each cell quotes the official source; **Missing** means no cited sentence is curated for it yet."
    )
    with gr.Row():
        residence = gr.Radio(list(RESIDENCE), value="UK", label="I live in", elem_id="holding-residence")
        citizenship = gr.Radio(
            list(CITIZENSHIP), value="Neither", label="I am a citizen of", elem_id="holding-citizenship"
        )
        platform = gr.Radio(list(RESIDENCE), value="US", label="My platform is in", elem_id="holding-platform")
    with gr.Row():
        regulated = gr.Radio(
            list(REGULATED),
            value="Don't know",
            label="Is the platform registered or authorised?",
            elem_id="holding-regulated",
        )
        asset = gr.Dropdown(list(ASSETS), value=list(ASSETS)[1], label="I hold", elem_id="holding-asset")
        custody = gr.Radio(list(CUSTODY), value="On the platform", label="Held", elem_id="holding-custody")
        as_of = gr.Textbox(value=dt.date.today().isoformat(), label="As of (YYYY-MM-DD)", elem_id="holding-as-of")
    with gr.Row():
        describe = gr.Textbox(
            show_label=False,
            placeholder='Or describe it, e.g. "I live in Leeds and keep USDC on a US exchange"',
            scale=4,
            elem_id="holding-describe",
        )
        fill = gr.Button("Fill the form", size="sm", scale=1, elem_id="holding-fill")
        fill_chat = gr.Button(
            "Fill from the chat", size="sm", scale=1, elem_id="holding-fill-chat", visible=bool(chatbot)
        )
    with gr.Row():
        show = gr.Button("Show my holding", variant="primary", elem_id="holding-show")
        print_button = gr.Button("Print", size="sm", elem_id="holding-print")
    report = gr.HTML(STYLE + EMPTY, elem_id="holding-report")

    def respond(*values: Any) -> str:
        return STYLE + show_holding(get_bot, *values)

    inputs = [residence, citizenship, platform, regulated, asset, custody, as_of]
    show.click(respond, inputs, [report], api_visibility="private")
    form = [residence, citizenship, platform, asset, custody]
    fill.click(lambda text: fill_form([text or ""]), [describe], form, api_visibility="private")
    if chatbot is not None:
        fill_chat.click(
            lambda messages: fill_form(_user_questions(messages)), [chatbot], form, api_visibility="private"
        )
    print_button.click(None, None, None, js="() => window.print()")


def with_holding_tab(chat: gr.Blocks, get_bot: Callable[[], Bot]) -> gr.Blocks:
    """The chat and a "My holding" tab, side by side as tabs of one page."""
    chatbot = next((b for b in chat.blocks.values() if isinstance(b, gr.Chatbot)), None)
    with gr.Blocks(title=chat.title, analytics_enabled=False) as blocks, gr.Tabs(elem_id="tabs"):
        with gr.Tab("Chat", id="chat-tab", elem_id="chat-tab"):
            chat.render()
        with gr.Tab("My holding", id="holding-tab", elem_id="holding-tab"):
            build_holding_tab(get_bot, chatbot)
    return blocks
