"""The audit log of every answer served, and the feedback on those answers, in one SQL database.

SQLite by default (a file in server.feedback_dir, mode 0600); `store.url` = postgresql+psycopg://...
when several replicas serve. Questions and comments are stored with personal data redacted (e-mail
addresses, phone numbers, account and wallet numbers). Records older than `store.retention_days` are
deleted when the server starts and then once an hour.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import os
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Index,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    insert,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import StoreError, UnknownAnswerError
from bot.server.errors import request_id
from bot.types import Answer

log = logging.getLogger("bot.server")

# Each pattern starts only where a token starts (the look-behinds), so a long run is scanned once.
_REDACTIONS = [
    (re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (re.compile(r"(?<![\w$£€])0x[0-9a-fA-F]{16,}"), "[wallet]"),
    (re.compile(r"(?<!\w)(?:bc1|tb1)[02-9ac-hj-np-z]{20,}", re.I), "[wallet]"),
    (re.compile(r"(?<!\w)[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?(?!\w)"), "[account]"),
    (re.compile(r"(?<![\w+])\+?\d[\d ().-]{6,}\d(?!\w)"), "[number]"),
]


def redact(text: str) -> str:
    """The text with e-mail addresses, wallet and account numbers and phone-like numbers replaced.
    Years, amounts and short figures ("£85,000", "2027") are kept: they carry the question's meaning."""
    for pattern, label in _REDACTIONS:
        text = pattern.sub(functools.partial(_replace, label=label), text)
    return text


def _replace(match: re.Match[str], label: str) -> str:
    return _keep_figures(match.group(0), label)


def _keep_figures(found: str, label: str) -> str:
    if label == "[number]" and (len(re.sub(r"\D", "", found)) < 8 or re.fullmatch(r"[\d,]+(\.\d+)?", found)):
        return found  # a year, an amount with thousands separators, a short figure
    return label


metadata = MetaData()
answers_table = Table(
    "answers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("time", DateTime(timezone=True), nullable=False, index=True),
    Column("surface", String(16), nullable=False),
    Column("caller", String(120)),
    Column("kind", String(32), nullable=False),
    Column("composer", String(64)),
    Column("corpus_version", String(64)),
    Column("index_build", String(80)),
    Column("question", Text, nullable=False),
    Column("citations", Text, nullable=False),  # JSON: [{doc_id, section, content_hash}]
    Column("timings", Text, nullable=False),  # JSON
    Column("shown", Text, nullable=False),  # JSON: the answer object as served, question redacted
    Column("request_id", String(64)),
)
feedback_table = Table(
    "feedback",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("time", DateTime(timezone=True), nullable=False, index=True),
    Column("answer_id", String(64), nullable=False),
    Column("caller", String(120), nullable=False),
    Column("source", String(16), nullable=False),
    Column("rating", String(8), nullable=False),
    Column("comment", Text),
    Column("request_id", String(64)),
    Index("feedback_answer_caller", "answer_id", "caller", unique=True),
)


def default_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'bot.sqlite3'}"


def _private_sqlite_file(url: str) -> None:
    """Create a SQLite database file readable by its owner only (mode 0600) before SQLite does."""
    if not url.startswith("sqlite:///") or url.endswith(":memory:"):
        return
    path = Path(url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)


class Store:
    """The audit log and the feedback, through SQLAlchemy (SQLite or PostgreSQL)."""

    def __init__(self, url: str, retention_days: int) -> None:
        self.url = url
        self.retention = dt.timedelta(days=retention_days)
        self._pruned = 0.0
        self._lock = threading.Lock()
        try:
            _private_sqlite_file(url)
            self.engine: Engine = create_engine(url, pool_pre_ping=True)
            metadata.create_all(self.engine)
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(
                f"The audit and feedback database at {_safe(url)} cannot be opened ({exc.__class__.__name__}: "
                f"{exc}); check store.url (BOT_STORE__URL)."
            ) from exc
        self.prune()

    def record(self, answer: Answer, *, surface: str, caller: str | None) -> None:
        """Log an answer as it was served (its question redacted)."""
        shown = answer.model_dump(mode="json")
        shown["question"] = redact(answer.question)
        citations = [
            {"doc_id": c.doc_id, "section": c.anchor, "content_hash": c.content_hash} for c in answer.citations.values()
        ]
        row = {
            "id": answer.id,
            "time": dt.datetime.now(dt.UTC),
            "surface": surface,
            "caller": caller,
            "kind": answer.kind,
            "composer": answer.diagnostics.composer,
            "corpus_version": answer.corpus_version,
            "index_build": answer.index_build,
            "question": shown["question"],
            "citations": json.dumps(citations),
            "timings": json.dumps(answer.timings),
            "shown": json.dumps(shown, ensure_ascii=False),
            "request_id": request_id(),
        }
        self._write(lambda connection: connection.execute(insert(answers_table), [row]))
        self._maybe_prune()

    def answer(self, answer_id: str) -> dict[str, Any] | None:
        """The answer exactly as it was served, or None."""
        with self.engine.connect() as connection:
            row = connection.execute(select(answers_table.c.shown).where(answers_table.c.id == answer_id)).first()
        return None if row is None else dict(json.loads(row.shown))

    def add(
        self,
        *,
        answer_id: str,
        rating: Literal["up", "down"],
        source: str,
        question: str | None = None,
        comment: str | None = None,
        caller: str | None = None,
    ) -> dict[str, Any]:
        """Store a rating of a served answer; a caller's later rating of the same answer replaces the
        earlier one. The question is not stored again: the audit log holds it."""
        record = {
            "id": uuid.uuid4().hex,
            "time": dt.datetime.now(dt.UTC),
            "answer_id": answer_id,
            "caller": caller or source,
            "source": source,
            "rating": rating,
            "comment": redact(comment) if comment else None,
            "request_id": request_id(),
        }

        def write(connection: Any) -> None:
            known = connection.execute(select(answers_table.c.id).where(answers_table.c.id == answer_id)).first()
            if known is None:
                raise UnknownAnswerError(
                    f"No answer with id '{answer_id}' was served here; send the id of an answer from POST /v1/answers."
                )
            connection.execute(
                delete(feedback_table).where(
                    feedback_table.c.answer_id == answer_id, feedback_table.c.caller == record["caller"]
                )
            )
            connection.execute(insert(feedback_table), [record])

        self._write(write)
        return record

    def withdraw(self, *, answer_id: str, caller: str) -> bool:
        """Remove a caller's rating of an answer (the active thumb clicked again); True when there was one."""
        removed = 0

        def write(connection: Any) -> None:
            nonlocal removed
            removed = connection.execute(
                delete(feedback_table).where(feedback_table.c.answer_id == answer_id, feedback_table.c.caller == caller)
            ).rowcount

        self._write(write)
        return removed > 0

    def feedback(self, answer_id: str | None = None) -> list[dict[str, Any]]:
        """Feedback records, oldest first (for operators and tests)."""
        query = select(feedback_table).order_by(feedback_table.c.time)
        if answer_id:
            query = query.where(feedback_table.c.answer_id == answer_id)
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def prune(self) -> int:
        """Delete records older than the retention period; the number of answers deleted."""
        cutoff = dt.datetime.now(dt.UTC) - self.retention
        deleted = 0

        def write(connection: Any) -> None:
            nonlocal deleted
            connection.execute(delete(feedback_table).where(feedback_table.c.time < cutoff))
            deleted = connection.execute(delete(answers_table).where(answers_table.c.time < cutoff)).rowcount

        self._write(write)
        self._pruned = time.monotonic()
        return deleted

    def _maybe_prune(self) -> None:
        if time.monotonic() - self._pruned > 3600:
            self.prune()

    def _write(self, work: Any) -> None:
        try:
            with (
                self._lock if self.url.startswith("sqlite") else contextlib.nullcontext(),
                self.engine.begin() as connection,
            ):
                work(connection)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"The audit and feedback database at {_safe(self.url)} failed ({exc.__class__.__name__}); "
                "check that it is up and store.url (BOT_STORE__URL) is right."
            ) from exc


def _safe(url: str) -> str:
    """The URL without its password."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)
