"""The audit trail and `/v1/feedback` (`bot.server.store`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from bot.core import Bot
from bot.errors import StoreUnavailableError
from bot.server.store import Store, answers_table, default_url, feedback_table

from .helpers import PK, PORTAL, QUESTION, SECRET, MakeClient, assert_error, keyed


def test_answers_are_audited_and_feedback_needs_a_served_answer(make_client: MakeClient, tmp_path: Path) -> None:
    """Issue 13: every answer served is in the audit log (GET /v1/answers/{id}); feedback must name one;
    a caller's second rating replaces the first; the database file is private (0600)."""
    client = make_client(feedback_dir=tmp_path / "fb")
    question = QUESTION + " Write to me at jo.bloggs@example.com or +44 7700 900123."
    answer = client.post("/v1/answers", json={"question": question}).json()
    served = client.get(f"/v1/answers/{answer['id']}")
    assert served.status_code == 200
    assert served.json()["answer"] == answer["answer"] and served.json()["citations"] == answer["citations"]
    assert "[email]" in served.json()["question"] and "jo.bloggs" not in served.json()["question"]
    assert "7700" not in served.json()["question"]
    assert_error(client.get("/v1/answers/0123456789abcdef"), 404, "unknown_answer")

    for rating in ("down", "up"):
        response = client.post(
            "/v1/feedback", json={"answer_id": answer["id"], "rating": rating, "comment": "Missing FOS detail"}
        )
        assert response.status_code == 201 and response.json()["stored"] is True
    store = Store(default_url(tmp_path / "fb"), 90)
    records = store.feedback(answer["id"])
    assert len(records) == 1 and records[0]["rating"] == "up" and records[0]["source"] == "api"
    assert records[0]["request_id"] == response.headers["x-request-id"]
    assert (tmp_path / "fb" / "bot.sqlite3").stat().st_mode & 0o777 == 0o600

    assert_error(client.post("/v1/feedback", json={"answer_id": "neverissued", "rating": "up"}), 404, "unknown_answer")
    assert_error(
        client.post("/v1/feedback", json={"answer_id": "x", "question": "q", "rating": "meh"}),
        422,
        "invalid_request",
    )


def test_audit_records_expire_after_the_retention_period(tmp_path: Path, fixture_bot: Bot) -> None:
    store = Store(default_url(tmp_path), retention_days=1)
    answer = fixture_bot.ask(QUESTION)
    store.record(answer, surface="api", caller="test")
    store.add(answer_id=answer.id, rating="up", source="api", caller="test")
    assert store.prune() == 0 and store.answer(answer.id) is not None
    with store.engine.begin() as connection:
        old = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
        connection.execute(answers_table.update().values(time=old))
        connection.execute(feedback_table.update().values(time=old))
    assert store.prune() == 1 and store.answer(answer.id) is None and not store.feedback()


def test_a_callers_latest_rating_replaces_the_earlier_one(make_client: MakeClient, tmp_path: Path) -> None:
    client = keyed(make_client, feedback_dir=tmp_path / "fb")
    other = {"X-API-Key": SECRET}
    answer_id = client.post("/v1/answers", json={"question": QUESTION}, headers=other).json()["id"]
    token = client.post("/v1/sessions", json={"publishable_key": PK}, headers={"Origin": PORTAL}).json()["token"]
    widget = {"Authorization": f"Bearer {token}", "Origin": PORTAL}
    for headers, rating in ((widget, "up"), (other, "up"), (widget, "down")):
        body = {"answer_id": answer_id, "rating": rating}
        assert client.post("/v1/feedback", json=body, headers=headers).status_code == 201
    records = Store(default_url(tmp_path / "fb"), 90).feedback(answer_id)
    assert sorted((r["caller"].split(":")[0], r["rating"]) for r in records) == [("key", "up"), ("session", "down")]


def test_feedback_store_withdraws_a_rating(tmp_path: Path, fixture_bot: Bot) -> None:
    store = Store(default_url(tmp_path), 90)
    first, second = fixture_bot.ask(QUESTION), fixture_bot.ask(QUESTION + " (again)")
    for answer in (first, second):
        store.record(answer, surface="web", caller="web")
        store.add(answer_id=answer.id, rating="up", source="web", caller="web:s1")
    assert store.withdraw(answer_id=first.id, caller="web:s1") and not store.withdraw(
        answer_id=first.id, caller="web:s1"
    )
    assert [r["answer_id"] for r in store.feedback()] == [second.id]


def test_store_unavailable_is_503(make_client: MakeClient, fixture_bot: Bot) -> None:
    class StoreDown:
        """The fixture bot's data, but its vector store (a Chroma server) has gone away."""

        settings = fixture_bot.settings
        embedder = fixture_bot.embedder
        stale_reason = None

        class index:  # noqa: N801
            chunks = fixture_bot.index.chunks
            build_id = fixture_bot.index.build_id

            @staticmethod
            def problem() -> str:
                return "the vector store at http://127.0.0.1:1 does not answer (ConnectError)"

        def ask_stream(self, *args: Any, **kwargs: Any) -> Any:
            raise StoreUnavailableError("The Chroma server at http://127.0.0.1:1 stopped answering.")

    client = make_client(bot=StoreDown())
    response = client.post("/v1/answers", json={"question": QUESTION})
    assert "Chroma" in assert_error(response, 503, "store_unavailable")["message"]
    assert response.headers["Retry-After"]
    ready = assert_error(client.get("/readyz"), 503, "not_ready")
    assert ready["details"]["checks"]["store"] is False and "does not answer" in ready["message"]
