"""Question files: the `Question` model, the JSONL/CSV reader and the tune/validation split."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator, model_validator

Kind = Literal["answer", "refusal", "no_guidance"]
Jurisdiction = Literal["UK", "US", "INTL"]
KINDS: tuple[Kind, ...] = ("answer", "refusal", "no_guidance")
JURISDICTIONS: tuple[Jurisdiction, ...] = ("UK", "US", "INTL")
# An earlier turn, in any shape Bot.ask reads: the user's text, {"role", "content"}, or [user, bot].
Turn = str | dict[str, Any] | list[Any]
VALIDATION_SHARE = 0.3  # of the development questions, held out from tuning (by a hash of the id)


@dataclass
class Problem:
    """A question line that could not be read; it is skipped."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def _as_list(value: Any, name: str) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                place = f"{exc.msg} at character {exc.pos + 1} of the cell"
                raise ValueError(f"'{name}' is not a valid JSON list ({place})") from exc
        else:  # CSV cells: "UK|US" or "UK;US"
            return [part.strip() for part in re.split(r"[|;]", text) if part.strip()]
    if not isinstance(value, list):
        raise ValueError(f"'{name}' must be a list")
    return value


def _strings(value: Any, name: str) -> list[str]:
    items = _as_list(value, name)
    if not all(isinstance(item, str) for item in items):
        raise ValueError(f"'{name}' must be a list of strings")
    return [item.strip() for item in items if item.strip()]


class Question(BaseModel):
    """One line of a question file. The field order is the order of `record` in answers.jsonl."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    question: str
    expected_jurisdictions: list[Jurisdiction] = []
    expected_sources: list[str] = []
    must_mention: list[str] = []
    must_not_say: list[str] = []
    history: list[Turn] = []
    expected_kind: Kind | None = None
    category: str = "uncategorised"
    as_of: str | None = None  # YYYY-MM-DD: answer as on that date
    jurisdictions: list[str] | None = None  # restrict sources, as `bot ask --jurisdiction`
    id: str
    source: str  # "file:line", where the question was read

    @model_validator(mode="before")
    @classmethod
    def _record(cls, raw: Any, info: ValidationInfo) -> Any:
        if not isinstance(raw, dict):
            raise ValueError("the line is not an object with a 'question' field")
        question = raw.get("question")
        if not isinstance(question, str) or not question.strip():
            raise ValueError("'question' is missing or empty")
        place = info.context or {}
        path, line = str(place.get("path", "")), int(place.get("line", 0))
        identifier = raw.get("id")
        return {
            **raw,
            "question": question.strip(),
            "id": str(identifier).strip() if identifier not in (None, "") else f"{Path(path).stem}:{line}",
            "source": f"{path}:{line}",
        }

    @field_validator("expected_jurisdictions", mode="before")
    @classmethod
    def _expected_jurisdictions(cls, value: Any) -> list[str]:
        items = [j.upper() for j in _strings(value, "expected_jurisdictions")]
        bad = [j for j in items if j not in JURISDICTIONS]
        if bad:
            raise ValueError(f"unknown expected_jurisdictions {bad}; use UK, US or INTL")
        return items

    @field_validator("expected_sources", "must_mention", "must_not_say", mode="before")
    @classmethod
    def _string_list(cls, value: Any, info: ValidationInfo) -> list[str]:
        return _strings(value, str(info.field_name))

    @field_validator("history", mode="before")
    @classmethod
    def _history(cls, value: Any) -> list[Any]:
        turns = _as_list(value, "history")
        if not all(isinstance(turn, str | dict | list) for turn in turns):
            raise ValueError("'history' must be a list of earlier turns (strings, {role, content} or [user, bot])")
        return turns

    @field_validator("expected_kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> Any:
        kind = value or None
        if kind is not None and kind not in KINDS:
            raise ValueError(f"expected_kind '{kind}' is not one of {', '.join(KINDS)}")
        return kind

    @field_validator("category", mode="before")
    @classmethod
    def _category(cls, value: Any) -> str:
        return str(value or "uncategorised")

    @field_validator("as_of", mode="before")
    @classmethod
    def _as_of(cls, value: Any) -> str | None:
        as_of = value or None
        if as_of is None:
            return None
        try:
            dt.date.fromisoformat(str(as_of))
        except ValueError as exc:
            raise ValueError(f"'as_of' must be a date YYYY-MM-DD, not {as_of!r}") from exc
        return str(as_of)

    @field_validator("jurisdictions", mode="before")
    @classmethod
    def _jurisdictions(cls, value: Any) -> list[str] | None:
        return [str(j).upper() for j in _as_list(value, "jurisdictions")] or None

    @property
    def day(self) -> dt.date | None:
        """The question's own as-of date, if it has one."""
        return dt.date.fromisoformat(self.as_of) if self.as_of else None


def parse_question(raw: Any, path: str, line: int) -> Question:
    """Validate one question record; raises ValueError with a readable message (the first problem)."""
    try:
        return Question.model_validate(raw, context={"path": path, "line": line})
    except ValidationError as exc:
        error = exc.errors()[0]
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, ValueError):  # raised by a validator above: its message is the problem
            raise ValueError(str(cause)) from None
        field = ".".join(str(part) for part in error["loc"])
        raise ValueError(f"'{field}': {error['msg']}") from None


def _question_files(paths: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in (".jsonl", ".csv")))
        else:
            files.append(path)
    return files


def json_error_place(line: str, exc: json.JSONDecodeError) -> str:
    """Where on its line a JSON error is: json counts the line's newline, so a line cut short
    would otherwise be blamed on "line 2, column 1"."""
    content = line.rstrip("\r\n")
    if exc.pos >= len(content):
        return f"{exc.msg} at the end of the line, column {len(content) + 1}: is the line cut short?"
    return f"{exc.msg} at column {exc.pos + 1}"


def _rows(path: Path, problems: list[Problem]) -> list[tuple[int, Any]]:
    """(line number, raw record) of one file; lines that are not JSON become problems."""
    rows: list[tuple[int, Any]] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        if path.suffix.lower() == ".csv":
            reader = csv.DictReader(handle)
            for row in reader:
                rows.append((reader.line_num, {k.strip(): v for k, v in row.items() if k}))
        else:
            for number, text in enumerate(handle, start=1):
                if not text.strip() or text.lstrip().startswith("//"):
                    continue
                try:
                    rows.append((number, json.loads(text)))
                except json.JSONDecodeError as exc:
                    problems.append(Problem(str(path), number, f"not valid JSON ({json_error_place(text, exc)})"))
    return rows


def load_questions(paths: Sequence[Path | str]) -> tuple[list[Question], list[Problem]]:
    """Read JSONL/CSV question files (or folders of them); bad lines become problems, not errors."""
    questions: list[Question] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for path in _question_files([Path(p) for p in paths]):
        name = str(path)
        if not path.is_file():
            problems.append(Problem(name, 0, "no such file"))
            continue
        for number, raw in _rows(path, problems):
            try:
                question = parse_question(raw, name, number)
            except ValueError as exc:
                problems.append(Problem(name, number, str(exc)))
                continue
            if question.id in seen:
                problems.append(Problem(name, number, f"duplicate id '{question.id}' (first at {seen[question.id]})"))
                continue
            seen[question.id] = question.source
            questions.append(question)
    return questions, problems


def split_of(question_id: str) -> str:
    """'validation' or 'tune': a stable split of the development set by a hash of the question's id."""
    digest = int(hashlib.sha256(question_id.encode("utf-8")).hexdigest()[:8], 16)
    return "validation" if digest / 0xFFFFFFFF < VALIDATION_SHARE else "tune"


def indexed_source_ids(index_path: Path) -> set[str] | None:
    """The document ids of the current index build (its manifest), or None without an index."""
    pointer = index_path / "current"  # bot.index.CURRENT; read here without loading the index
    if not pointer.is_file():
        return None
    manifest = index_path / "builds" / pointer.read_text().strip() / "manifest.json"
    try:
        documents: dict[str, str] = json.loads(manifest.read_text(encoding="utf-8"))["documents"]
    except (OSError, ValueError, KeyError):
        return None
    return set(documents)


def unknown_sources(questions: Sequence[Question], known: set[str]) -> list[Problem]:
    """Questions whose expected_sources name documents that are not in the index (scored as 0% recall)."""
    problems = []
    for question in questions:
        missing = [doc for doc in question.expected_sources if doc not in known]
        if missing:
            path, _, line = question.source.rpartition(":")
            problems.append(
                Problem(
                    path,
                    int(line),
                    f"expected_sources {', '.join(repr(m) for m in missing)} not in the index: "
                    "a typo, or a document to add (`bot sources` lists the ids); scored as missed until then",
                )
            )
    return problems
