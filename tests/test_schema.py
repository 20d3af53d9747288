"""A bounded schemathesis pass over every /v1 operation of the in-process app: no 5xx, and every
response is one the OpenAPI schema documents (status code, content type, headers, body), and data the
schema forbids is refused (issue 13: the schema must say what the server does)."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.schemas import APIOperation, BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from bot.core import Bot
from bot.server.app import create_app
from bot.settings import ServerSettings

# Each operation gets this many generated requests, valid and then invalid: about 16 s in all on two
# busy cores once the fixture bot is built, so the pass is not marked slow.
EXAMPLES_PER_OPERATION = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture(scope="module")
def app(fixture_bot: Bot, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The API in process with the fixture bot (no web chat, no rate limit in the way)."""
    server = ServerSettings(
        feedback_dir=Path(tmp_path_factory.mktemp("feedback")),
        rate_limit=1_000_000,
        max_in_flight=4,
        max_queue=64,
    )
    return create_app(fixture_bot.settings.model_copy(update={"server": server}), bot=fixture_bot, web_chat=False)


@pytest.fixture(scope="module")
def api_schema(app: FastAPI) -> BaseSchema:
    """The app's own OpenAPI schema, whose operations call the app in process."""
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def v1_operations(schema: BaseSchema) -> list[APIOperation]:
    """Every operation under /v1 that the schema documents."""
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        if result.ok().path.startswith("/v1/"):
            operations.append(result.ok())
    return operations


def test_the_pass_covers_every_v1_operation(api_schema: BaseSchema) -> None:
    found = {(op.method.upper(), op.path) for op in v1_operations(api_schema)}
    assert {("POST", "/v1/answers"), ("POST", "/v1/answers/stream"), ("GET", "/v1/sources")} <= found


def _exercise(operation: APIOperation, mode: GenerationMode) -> int:
    """Send the operation's generated requests and check each response; returns how many were sent."""
    sent = 0

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Case) -> None:
        nonlocal sent
        sent += 1
        case.call_and_validate(checks=CHECKS)

    check()
    return sent


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_v1_operation_matches_its_schema(api_schema: BaseSchema, mode: GenerationMode) -> None:
    failures: list[str] = []
    sent: dict[str, int] = {}
    for operation in v1_operations(api_schema):
        name = f"{operation.method.upper()} {operation.path}"
        try:
            sent[name] = _exercise(operation, mode)
        except Unsatisfiable:  # nothing to get wrong (GET /v1/sources takes no input): no invalid request
            assert mode == GenerationMode.NEGATIVE, f"{name}: no valid request could be generated"
        except Exception as exc:  # report every operation's failure, not only the first
            failures.append(f"{name} ({mode}):\n{exc}")
    print(f"{mode} requests per operation: {sent}")
    assert not failures, "\n\n".join(failures)
    assert all(sent.values()), f"an operation was never called: {sent}"


def test_as_of_is_a_date_string_and_a_body_not_utf8_is_a_documented_400(app: FastAPI) -> None:
    client = TestClient(app)
    for as_of in (0, "0", "2026-01-01T00:00:00"):  # 0 was read as 1970-01-01
        response = client.post("/v1/answers", json={"question": "Is my crypto protected?", "as_of": as_of})
        assert response.status_code == 422 and "YYYY-MM-DD" in response.text
    response = client.post(
        "/v1/answers", content=b'{"question": "\xff\xfe"}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"
    documented = client.get("/openapi.json").json()["paths"]["/v1/answers"]["post"]["responses"]
    assert "400" in documented
