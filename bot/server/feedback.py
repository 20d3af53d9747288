"""Thumbs up/down feedback, appended to feedback_dir/feedback.jsonl; a caller's latest rating of an
answer replaces their earlier one."""

from __future__ import annotations

import datetime as dt
import json
import os
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
            if caller is not None:
                self._drop(answer_id, caller)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        return record

    def withdraw(self, *, answer_id: str, caller: str) -> bool:
        """Remove a caller's rating of an answer (a thumb clicked again); True when there was one."""
        with self._lock:
            return self._drop(answer_id, caller)

    def _drop(self, answer_id: str, caller: str) -> bool:
        """Rewrite the file without the caller's earlier ratings of the answer (call under the lock)."""
        if not self.path.exists():
            return False
        lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if not _rates(line, answer_id, caller)]
        if len(kept) == len(lines):
            return False
        partial = self.path.with_suffix(".jsonl.tmp")
        partial.write_text("".join(kept), encoding="utf-8")
        os.replace(partial, self.path)  # atomic: a reader sees the old file or the new one
        return True


def _rates(line: str, answer_id: str, caller: str) -> bool:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return False
    return isinstance(record, dict) and record.get("answer_id") == answer_id and record.get("caller") == caller
