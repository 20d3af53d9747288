"""The one error shape for every failure (`bot.server.errors`)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from .helpers import QUESTION, MakeClient, assert_error


def test_validation_errors_share_the_error_shape(client: TestClient) -> None:
    error = assert_error(client.post("/v1/answers", json={}), 422, "invalid_request")
    assert "question" in error["message"]
    assert_error(client.post("/v1/answers", json={"question": "q", "colour": "red"}), 422, "invalid_request")
    assert_error(
        client.post("/v1/answers", json={"question": QUESTION, "jurisdictions": ["FR"]}),
        422,
        "invalid_request",
    )
    assert_error(
        client.post("/v1/answers", content=b"{not json", headers={"content-type": "application/json"}),
        422,
        "invalid_request",
    )


def test_unknown_endpoint_is_a_json_404_and_wrong_method_405(client: TestClient) -> None:
    assert_error(client.get("/v1/nothing-here"), 404, "not_found")
    response = client.get("/v1/answers")
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"


def test_unexpected_errors_are_500_json(make_client: MakeClient) -> None:
    class Broken:
        def ask_stream(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("boom")

    client = make_client(bot=Broken(), raise_server_exceptions=False)
    error = assert_error(client.post("/v1/answers", json={"question": QUESTION}), 500, "internal_error")
    assert "boom" not in error["message"]
