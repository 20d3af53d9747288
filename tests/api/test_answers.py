"""The answer routes, `/v1/answers` and `/v1/answers/stream`, over the real fixture bot."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.core import Bot, StreamEvent
from bot.prompts import NOTICE
from bot.server import errors
from bot.types import Answer

from .helpers import QUESTION, MakeClient, assert_error, sse_events


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


def test_question_errors_are_422_with_a_clear_message(client: TestClient, fixture_bot: Bot) -> None:
    assert_error(client.post("/v1/answers", json={"question": ""}), 422, "invalid_question")
    limit = fixture_bot.settings.answer.max_question_chars
    error = assert_error(client.post("/v1/answers", json={"question": "why " * limit}), 422, "invalid_question")
    assert f"the limit is {limit}" in error["message"]


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


def test_long_digit_history_answers_quickly(client: TestClient) -> None:
    """A 30 KB run of digits once made the term regex quadratic (30 s); the history is also capped."""
    started = time.perf_counter()
    response = client.post("/v1/answers", json={"question": "What is USDC?", "history": ["1" * 19_000]})
    assert response.status_code == 200
    assert time.perf_counter() - started < 30  # generous: the fault took minutes at this size


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
