"""Checks of a document's front matter: required and known fields, ids, vocabulary, URLs and dates."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.corpus.vocabulary import (
    DOC_TYPES,
    JURISDICTIONS,
    OPTIONAL,
    PUBLISHERS,
    REQUIRED,
    STATUSES,
    TOPICS,
    official_domain,
)

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def key_lines(front_lines: list[str], offset: int) -> dict[str, int]:
    """The line number of each front-matter key, for problems that name the line."""
    lines: dict[str, int] = {}
    for i, line in enumerate(front_lines):
        m = re.match(r"^([A-Za-z_]+)\s*:", line)
        if m and m.group(1) not in lines:
            lines[m.group(1)] = offset + i
    return lines


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


Problem = Callable[[int, str], None]
"""Records a problem at a line of the file being checked."""


def check_fields(
    meta: dict[str, Any], key_line: dict[str, int], path: Path, problem: Problem
) -> tuple[str, Any, Any, Any, Any, Any, list[Any]]:
    """Check the front matter's fields; return (id, jurisdiction, publisher, status, doc_type, url, topics)."""
    for key in REQUIRED:
        if meta.get(key) in (None, "", []):
            problem(key_line.get(key, 1), f"missing required field '{key}'")
    for key in meta:
        if key not in REQUIRED and key not in OPTIONAL:
            problem(key_line.get(key, 1), f"unknown field '{key}' (allowed: {', '.join(REQUIRED + OPTIONAL)})")

    doc_id = str(meta.get("id", ""))
    if doc_id and not _ID.match(doc_id):
        problem(key_line.get("id", 1), f"id '{doc_id}' must be lower-case letters, digits and '-'")
    if doc_id and doc_id != path.stem:
        problem(key_line.get("id", 1), f"id '{doc_id}' must equal the file name '{path.stem}'")
    jurisdiction = meta.get("jurisdiction")
    if jurisdiction is not None and jurisdiction not in JURISDICTIONS:
        problem(
            key_line.get("jurisdiction", 1), f"unknown jurisdiction '{jurisdiction}' (use {', '.join(JURISDICTIONS)})"
        )
    publisher = meta.get("publisher")
    if publisher is not None:
        if publisher not in PUBLISHERS:
            problem(key_line.get("publisher", 1), f"unknown publisher '{publisher}' (see docs/corpus-format.md)")
        elif jurisdiction in JURISDICTIONS and PUBLISHERS[publisher] != jurisdiction:
            problem(
                key_line.get("publisher", 1),
                f"publisher '{publisher}' belongs to {PUBLISHERS[publisher]}, not {jurisdiction}",
            )
    status = meta.get("status")
    if status is not None and status not in STATUSES:
        problem(key_line.get("status", 1), f"unknown status '{status}' (use {', '.join(STATUSES)})")
    doc_type = meta.get("doc_type")
    if doc_type is not None and doc_type not in DOC_TYPES:
        problem(key_line.get("doc_type", 1), f"unknown doc_type '{doc_type}' (use {', '.join(DOC_TYPES)})")
    url = meta.get("url")
    if url and not official_domain(str(url)):
        problem(key_line.get("url", 1), f"url '{url}' is not an https URL on an official publisher's domain")
    topics = meta.get("topics") or []
    if not isinstance(topics, list):
        problem(key_line.get("topics", 1), "topics must be a list, e.g. [tax, reporting]")
        topics = []
    for topic in topics:
        if topic not in TOPICS:
            problem(key_line.get("topics", 1), f"unknown topic '{topic}' (see docs/corpus-format.md)")
    return doc_id, jurisdiction, publisher, status, doc_type, url, topics


def check_dates(
    meta: dict[str, Any], key_line: dict[str, int], today: dt.date, problem: Problem
) -> dict[str, dt.date | None]:
    """Check the front matter's dates against each other, today and the status; return them parsed."""
    status = meta.get("status")
    dates: dict[str, dt.date | None] = {}
    for key in ("published", "effective", "until", "reviewed", "evidence_date"):
        value = meta.get(key)
        if value in (None, ""):
            dates[key] = None
            continue
        parsed = _as_date(value)
        if parsed is None:
            problem(key_line.get(key, 1), f"'{key}' must be a date written YYYY-MM-DD, not {value!r}")
        dates[key] = parsed
    for key in ("published", "reviewed", "evidence_date"):
        value = dates.get(key)
        if value is not None and value > today:
            problem(key_line.get(key, 1), f"'{key}' {value} is in the future (today is {today})")
    evidence, published, reviewed = dates.get("evidence_date"), dates.get("published"), dates.get("reviewed")
    if evidence is not None and reviewed is not None and evidence > reviewed:
        problem(
            key_line.get("evidence_date", 1),
            f"'evidence_date' {evidence} is after 'reviewed' {reviewed}: evidence counts once it has been checked, "
            "so set 'reviewed' to the day you checked it",
        )
    if evidence is not None and published is not None and evidence < published:
        problem(
            key_line.get("evidence_date", 1),
            f"'evidence_date' {evidence} is before 'published' {published}: the source is itself evidence as of "
            "its own date, so remove 'evidence_date' or correct it",
        )
    if status in ("superseded", "withdrawn") and dates.get("until") is None:
        problem(key_line.get("status", 1), f"a {status} document needs 'until': the date it stopped applying")
    if status == "superseded" and not meta.get("superseded_by"):
        problem(key_line.get("status", 1), "a superseded document needs 'superseded_by': the id that replaced it")
    if status == "not_yet_in_force" and dates.get("effective") is None:
        problem(key_line.get("status", 1), "a not_yet_in_force document needs 'effective': the date it applies from")
    return dates
