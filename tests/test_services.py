"""The real shared services the tests start (tests/services.py) answer on loopback."""

from __future__ import annotations

import httpx
import pytest
import redis
import sqlalchemy

pytestmark = pytest.mark.slow


def test_redis_answers_ping_and_keeps_nothing_on_disk(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    assert client.ping()
    assert client.config_get("save") == {"save": ""}
    client.set("bot:test", "1", ex=10)
    assert client.get("bot:test") == b"1"
    client.close()


def test_postgres_answers_select_1_through_sqlalchemy(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql+psycopg://") and "@127.0.0.1:" in postgres_url
    engine = sqlalchemy.create_engine(postgres_url)
    try:
        with engine.begin() as connection:
            assert connection.execute(sqlalchemy.text("SELECT 1")).scalar_one() == 1
            connection.execute(sqlalchemy.text("CREATE TABLE IF NOT EXISTS probe (id integer PRIMARY KEY)"))
            connection.execute(sqlalchemy.text("INSERT INTO probe VALUES (1) ON CONFLICT DO NOTHING"))
        with engine.connect() as connection:
            assert connection.execute(sqlalchemy.text("SELECT count(*) FROM probe")).scalar_one() == 1
    finally:
        engine.dispose()


def test_chroma_answers_its_heartbeat(chroma_url: str) -> None:
    response = httpx.get(f"{chroma_url}/api/v2/heartbeat", timeout=5)
    assert response.status_code == 200
    assert "nanosecond heartbeat" in response.json()
