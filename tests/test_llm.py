"""The LLM composer path with fake LLMs: prompts checked at load, every sentence citation-checked."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from bot.core import Bot
from bot.errors import SettingsError
from bot.llm import ANSWER_PROMPT_VARIABLES, PromptError, chat_model, load_prompt
from bot.prompts import NO_GUIDANCE

QUESTION = "I live in the UK and hold bitcoin on a US exchange. Is it protected if the exchange fails?"


class RecordingModel(FakeListChatModel):
    """A fake chat model that remembers the prompts it was sent."""

    sent: list[str] = []

    def _call(self, messages: Any, *args: Any, **kwargs: Any) -> str:
        self.sent.append(str(messages[-1].content))
        return super()._call(messages, *args, **kwargs)


def llm_bot(fixture_bot: Bot, reply: str) -> tuple[Bot, RecordingModel]:
    model = RecordingModel(responses=[reply])
    model.sent = []
    bot = Bot.__new__(Bot)
    bot.__dict__.update(fixture_bot.__dict__)
    bot.llm = model
    bot.prompt = load_prompt("answer", ANSWER_PROMPT_VARIABLES)
    return bot, model


def passage_numbers(prompt: str, label: str) -> list[int]:
    """Numbers of the passages whose label starts with e.g. '(UK) FSCS,'."""
    return [
        int(line[1 : line.index("]")])
        for line in prompt.splitlines()
        if line.startswith("[") and line.split("] ", 1)[1].startswith(label)
    ]


def test_llm_sentences_keep_only_supported_cited_ones(fixture_bot: Bot) -> None:
    probe, model = llm_bot(fixture_bot, NO_GUIDANCE)
    probe.ask(QUESTION)
    prompt = model.sent[0]
    assert QUESTION in prompt and "Passages:" in prompt
    fscs = passage_numbers(prompt, "(UK) FSCS,")[0]
    us = passage_numbers(prompt, "(US)")[0]
    reply = (
        "## UK\n"
        f"- The FSCS does not protect cryptoassets held with a crypto exchange. [{fscs}]\n"
        f"- The FSCS guarantees all bitcoin up to one million pounds. [{fscs}]\n"  # unsupported: dropped
        f"- The UK always refunds crypto losses. [{us}]\n"  # a US passage under UK: dropped
        "- Crypto is risky.\n"  # no citation: dropped
        "## US\n"
        "- SIPC covers everything. [99]\n"  # no such passage: dropped
    )
    bot, _ = llm_bot(fixture_bot, reply)
    answer = bot.ask(QUESTION)
    texts = [s.text for s in answer.sections["UK"]]
    assert texts == ["The FSCS does not protect cryptoassets held with a crypto exchange."]
    assert answer.timings["llm_sentences_dropped"] == 4
    citation = answer.citations[answer.sections["UK"][0].citations[0]]
    assert citation.publisher == "FSCS" and citation.quote
    assert "[1]" in answer.answer


def test_llm_that_supports_nothing_falls_back_to_extractive(fixture_bot: Bot) -> None:
    bot, _ = llm_bot(fixture_bot, "## UK\n- Bitcoin will double next year. [1]\n")
    answer = bot.ask(QUESTION)
    assert answer.kind == "answer"
    assert answer.sections["UK"] and all(s.citations for s in answer.sections["UK"])
    assert "double" not in answer.answer


def test_refusals_never_reach_the_llm(fixture_bot: Bot) -> None:
    bot, model = llm_bot(fixture_bot, "anything")
    assert bot.ask("Should I buy bitcoin now?").kind == "refusal"
    assert model.sent == []


def test_prompt_placeholders_are_checked_at_load(tmp_path: Path) -> None:
    (tmp_path / "answer.md").write_text("Question: {question} {evidence} {surprise}")
    with pytest.raises(PromptError, match="missing placeholders .*unknown placeholders \\['surprise'\\]"):
        load_prompt("answer", ANSWER_PROMPT_VARIABLES, tmp_path)
    with pytest.raises(PromptError, match="missing"):
        load_prompt("nothing", ANSWER_PROMPT_VARIABLES, tmp_path)
    assert "{question}" in load_prompt("answer", ANSWER_PROMPT_VARIABLES)


@pytest.mark.parametrize("spec", ["gpt-4", "bogus:model", "openai:"])
def test_bad_backend_strings_are_clear_errors(spec: str) -> None:
    with pytest.raises(SettingsError, match="composer|provider"):
        chat_model(spec, None, None)


@pytest.fixture()
def fake_openai_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
            reply = {"choices": [{"message": {"role": "assistant", "content": "## UK\n- Hello. [1]"}}]}
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1", received
    server.shutdown()


def test_openai_compatible_backend_speaks_http(fake_openai_server: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = fake_openai_server
    model = chat_model("openai:test-model", url, "secret")
    assert model.invoke("hi").content == "## UK\n- Hello. [1]"
    assert received[0]["path"] == "/v1/chat/completions"
    assert received[0]["body"]["model"] == "test-model"
    assert received[0]["auth"] == "Bearer secret"
