"""Thumbs up/down feedback, appended to feedback_dir/feedback.jsonl."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from pathlib import Path
from typing import Any, Literal

from bot.server.errors import request_id_var


class FeedbackStore:
    """Appends thumbs up/down feedback to feedback_dir/feedback.jsonl."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "feedback.jsonl"
        self._lock = threading.Lock()

    def add(
        self,
        *,
        answer_id: str,
        question: str,
        rating: Literal["up", "down"],
        source: str,
        comment: str | None = None,
        caller: str | None = None,
    ) -> dict[str, Any]:
        record = {
            "id": uuid.uuid4().hex,
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "source": source,
            "answer_id": answer_id,
            "question": question,
            "rating": rating,
            "comment": comment,
            "caller": caller,
            "request_id": request_id_var.get(),
        }
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        return record
