"""Parse one corpus file (Markdown with YAML front matter) into a Document, or the problems that stop it."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import Any

import yaml

from bot.corpus.validation import Problem, check_dates, check_fields, key_lines
from bot.corpus.vocabulary import (
    STATUSES,
)
from bot.errors import CorpusProblem
from bot.text import slugify
from bot.types import Document, Section

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")


def split_locator(heading: str) -> tuple[str, str] | None:
    """Split 'Title (locator)' at the final balanced parenthesis; None when there is none."""
    text = heading.rstrip()
    if not text.endswith(")"):
        return None
    depth = 0
    for position in range(len(text) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(text[position], 0)
        if depth == 0:
            title, locator = text[:position].strip(), text[position + 1 : -1].strip()
            return (title, locator) if title and locator else None
    return None


class _FrontMatterLoader(yaml.SafeLoader):
    """YAML without implicit timestamps: dates stay text, so that `_as_date` reports an impossible
    date such as 2024-13-45 as a problem at its file and line (PyYAML raises a bare ValueError)."""


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_document(path: Path, today: dt.date, root: Path | None = None) -> tuple[Document | None, list[CorpusProblem]]:
    """Parse one corpus file; return the document (or None) and its problems."""
    shown = str(path if root is None else path.relative_to(root.parent) if root.parent in path.parents else path)
    problems: list[CorpusProblem] = []

    def problem(line: int, message: str) -> None:
        problems.append(CorpusProblem(shown, line, message))

    read = _read_front_matter(path, problem)
    if read is None:
        return None, problems
    raw, lines, end, meta, key_line = read
    doc_id, jurisdiction, publisher, status, doc_type, url, topics = check_fields(meta, key_line, path, problem)
    dates = check_dates(meta, key_line, today, problem)

    sections = _parse_sections(lines, end + 1, problem)
    if not sections:
        problem(end + 2, "the body has no '## Heading (locator)' sections")

    if problems:
        return None, problems
    assert dates["published"] is not None and dates["reviewed"] is not None
    return (
        Document(
            id=doc_id,
            title=str(meta["title"]),
            jurisdiction=str(jurisdiction),
            publisher=str(publisher),
            doc_type=str(doc_type),
            reference=str(meta.get("reference") or ""),
            url=str(url),
            published=dates["published"],
            effective=dates["effective"],
            status=str(status),
            until=dates["until"],
            superseded_by=meta.get("superseded_by"),
            reviewed=dates["reviewed"],
            topics=tuple(topics),
            sections=tuple(sections),
            path=shown,
            content_hash=hashlib.sha256(raw).hexdigest(),
            evidence_date=dates["evidence_date"],
        ),
        problems,
    )


FrontMatter = tuple[bytes, list[str], int, dict[str, Any], dict[str, int]]
"""A file's bytes, its lines, the line index of the closing '---', the front matter and each key's line."""


def _read_front_matter(path: Path, problem: Problem) -> FrontMatter | None:
    """Read a corpus file and its YAML front matter; None (with the problem recorded) when that fails."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem(1, f"not UTF-8 text ({exc.reason} at byte {exc.start}); save the file as UTF-8")
        return None
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        problem(1, "missing front matter: the file must start with a '---' line")
        return None
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        problem(1, "front matter is not closed: add a '---' line after it")
        return None
    front_lines = lines[1:end]
    key_line = key_lines(front_lines, 2)
    try:
        meta = yaml.load("\n".join(front_lines), Loader=_FrontMatterLoader) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        line = (mark.line + 2) if mark is not None else 1
        problem(line, f"front matter is not valid YAML: {getattr(exc, 'problem', exc)}")
        return None
    if not isinstance(meta, dict):
        problem(2, "front matter must be a mapping of 'key: value' lines")
        return None

    return raw, lines, end, meta, key_line


def _parse_sections(lines: list[str], body_start: int, problem: Problem) -> list[Section]:
    """The body's '##' sections and '###' subsections, in order (outside code fences)."""
    reader = _SectionReader(problem)
    in_fence = False
    for index in range(body_start, len(lines)):
        line = lines[index]
        if line.strip().startswith("```"):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match is None:
            reader.add_line(index + 1, line)
        else:
            reader.add_heading(index + 1, len(match.group(1)), match.group(2))
    reader.close()
    if reader.preamble_line is not None:
        problem(reader.preamble_line, "text before the first '##' section; put it under a section with a locator")
    return reader.sections


class _SectionReader:
    """Collects sections line by line: each accepted heading closes the section before it."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.sections: list[Section] = []
        self.preamble_line: int | None = None  # the first text before any section
        self._stack: list[str] = []  # the headings above the current section: '##', then '###'
        self._anchors: set[str] = set()
        self._current: dict[str, Any] | None = None
        self._body: list[str] = []

    def add_line(self, number: int, line: str) -> None:
        if self._current is not None:
            self._body.append(line)
        elif line.strip() and self.preamble_line is None:
            self.preamble_line = number

    def add_heading(self, number: int, level: int, title: str) -> None:
        if level == 1 or level > 3:
            self.problem(number, "use '##' for sections and '###' for subsections (no '#' title, nothing deeper)")
            return
        located = split_locator(title)
        if located is None:
            self.problem(
                number, f"heading '{title}' must end with its source locator in parentheses, e.g. '(COBS 4.12A)'"
            )
            return
        self.close()
        heading, locator = located
        if level == 2:
            self._stack = [heading]
        elif not self._stack:
            self.problem(number, "a '###' subsection must come after a '##' section")
            return
        else:
            self._stack = self._stack[:1] + [heading]
        self._current = {
            "heading": heading,
            "locator": locator,
            "path": tuple(self._stack),
            "anchor": self._unique_anchor(heading),
            "line": number,
        }
        self._body = []

    def _unique_anchor(self, heading: str) -> str:
        anchor = slugify(heading)
        base, n = anchor, 2
        while anchor in self._anchors:
            anchor, n = f"{base}-{n}", n + 1
        self._anchors.add(anchor)
        return anchor

    def close(self) -> None:
        """Add the current section (an empty one is a problem)."""
        current = self._current
        if current is None:
            return
        text, questions, status = _section_body(self._body, current["line"] + 1, self.problem)
        if not text:
            self.problem(current["line"], f"section '{current['heading']}' is empty")
            return
        self.sections.append(Section(text=text, questions=tuple(questions), status=status, **current))


def _section_body(body: list[str], first_line: int, problem: Problem) -> tuple[str, list[str], str | None]:
    """A section's text, its investor questions ('Q:' lines, indexed, never quoted) and its 'Status:'."""
    kept: list[str] = []
    questions: list[str] = []
    status = None
    for offset, line in enumerate(body, start=first_line):
        stripped = line.strip()
        if stripped.startswith("Q:"):
            question = stripped[2:].strip()
            if not question:
                problem(offset, "empty 'Q:' line; write the investor question after 'Q: '")
            questions.append(question)
        elif stripped.startswith("Status:") and not any(k.strip() for k in kept):
            status = stripped[len("Status:") :].strip()
            if status not in STATUSES:
                problem(offset, f"unknown section status '{status}' (use {', '.join(STATUSES)})")
                status = None  # reported above; the Section model accepts only known statuses
        else:
            kept.append(line)
    return "\n".join(kept).strip(), questions, status
