"""Load and validate corpus documents (Markdown with YAML front matter)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import sys
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlparse

import yaml

from bot.errors import CorpusError, CorpusProblem
from bot.text import slugify
from bot.types import DocType, Document, Jurisdiction, Section, Status

# The allowed values are the answer contract's Literal types (bot.types), so the two cannot drift apart.
JURISDICTIONS: tuple[str, ...] = get_args(Jurisdiction)
STATUSES: tuple[str, ...] = get_args(Status)
DOC_TYPES: tuple[str, ...] = get_args(DocType)
TOPICS = frozenset(
    [
        "protection",
        "compensation",
        "complaints",
        "tax",
        "reporting",
        "promotions",
        "risk_warnings",
        "cooling_off",
        "registration",
        "authorisation",
        "custody",
        "staking",
        "lending",
        "scams",
        "stablecoins",
        "redemption",
        "reserves",
        "insolvency",
        "aml",
        "travel_rule",
        "derivatives",
        "etps",
        "regime",
        "disclosures",
        "market_abuse",
        "securities_status",
        "deposit_insurance",
        "banking",
        "mining",
        "meme_coins",
        "defi",
        "residence",
        "foreign_accounts",
        "enforcement",
        "property_law",
        "standards",
        "cross_border",
    ]
)
PUBLISHERS: dict[str, str] = {
    **{
        p: "UK"
        for p in (
            "FCA",
            "HM Treasury",
            "Bank of England",
            "PRA",
            "HMRC",
            "FOS",
            "FSCS",
            "PSR",
            "UK Parliament",
            "Law Commission",
            "Action Fraud",
            "Report Fraud",
        )
    },
    **{
        p: "US"
        for p in (
            "SEC",
            "CFTC",
            "US Congress",
            "US Treasury",
            "FinCEN",
            "IRS",
            "FDIC",
            "OCC",
            "Federal Reserve",
            "NCUA",
            "SIPC",
            "FINRA",
            "CFPB",
            "NYDFS",
            "FBI",
            "FTC",
            "California DFPI",
            "White House",
        )
    },
    **{p: "INTL" for p in ("OECD", "IOSCO", "FSB", "FATF", "BIS", "HM Treasury and US Treasury")},
}
OFFICIAL_DOMAINS = (
    "fca.org.uk",
    "gov.uk",
    "bankofengland.co.uk",
    "financial-ombudsman.org.uk",
    "fscs.org.uk",
    "psr.org.uk",
    "legislation.gov.uk",
    "parliament.uk",
    "lawcom.gov.uk",
    "actionfraud.police.uk",
    "sec.gov",
    "cftc.gov",
    "congress.gov",
    "treasury.gov",
    "fincen.gov",
    "irs.gov",
    "fdic.gov",
    "occ.gov",
    "occ.treas.gov",
    "federalreserve.gov",
    "ncua.gov",
    "sipc.org",
    "finra.org",
    "consumerfinance.gov",
    "dfs.ny.gov",
    "ic3.gov",
    "fbi.gov",
    "ftc.gov",
    "dfpi.ca.gov",
    "federalregister.gov",
    "govinfo.gov",
    "uscode.house.gov",
    "ecfr.gov",
    "whitehouse.gov",
    "oecd.org",
    "iosco.org",
    "fsb.org",
    "fatf-gafi.org",
    "bis.org",
    "reportfraud.police.uk",
    "police.uk",
    "investor.gov",
    "comptrollerofthecurrency.gov",
)
REQUIRED = ("id", "title", "jurisdiction", "publisher", "doc_type", "url", "published", "status", "reviewed", "topics")
OPTIONAL = ("reference", "effective", "until", "superseded_by", "evidence_date")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
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


def official_domain(url: str) -> bool:
    """True when url is https and its host is (a subdomain of) an official domain."""
    parsed = urlparse(url)
    host = (parsed.hostname or "").lower()
    return parsed.scheme == "https" and any(host == d or host.endswith("." + d) for d in OFFICIAL_DOMAINS)


def _key_lines(front_lines: list[str], offset: int) -> dict[str, int]:
    lines: dict[str, int] = {}
    for i, line in enumerate(front_lines):
        m = re.match(r"^([A-Za-z_]+)\s*:", line)
        if m and m.group(1) not in lines:
            lines[m.group(1)] = offset + i
    return lines


class _FrontMatterLoader(yaml.SafeLoader):
    """YAML without implicit timestamps: dates stay text, so that `_as_date` reports an impossible
    date such as 2024-13-45 as a problem at its file and line (PyYAML raises a bare ValueError)."""


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


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


def parse_document(path: Path, today: dt.date, root: Path | None = None) -> tuple[Document | None, list[CorpusProblem]]:
    """Parse one corpus file; return the document (or None) and its problems."""
    shown = str(path if root is None else path.relative_to(root.parent) if root.parent in path.parents else path)
    problems: list[CorpusProblem] = []

    def problem(line: int, message: str) -> None:
        problems.append(CorpusProblem(shown, line, message))

    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem(1, f"not UTF-8 text ({exc.reason} at byte {exc.start}); save the file as UTF-8")
        return None, problems
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        problem(1, "missing front matter: the file must start with a '---' line")
        return None, problems
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        problem(1, "front matter is not closed: add a '---' line after it")
        return None, problems
    front_lines = lines[1:end]
    key_line = _key_lines(front_lines, 2)
    try:
        meta = yaml.load("\n".join(front_lines), Loader=_FrontMatterLoader) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        line = (mark.line + 2) if mark is not None else 1
        problem(line, f"front matter is not valid YAML: {getattr(exc, 'problem', exc)}")
        return None, problems
    if not isinstance(meta, dict):
        problem(2, "front matter must be a mapping of 'key: value' lines")
        return None, problems

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


def _parse_sections(lines: list[str], body_start: int, problem: Any) -> list[Section]:
    sections: list[Section] = []
    stack: list[str] = []
    anchors: set[str] = set()
    current: dict[str, Any] | None = None
    body: list[str] = []
    preamble_line = None

    def close() -> None:
        if current is None:
            return
        kept: list[str] = []
        questions: list[str] = []
        status = None
        for offset, line in enumerate(body, start=current["line"] + 1):
            stripped = line.strip()
            if stripped.startswith("Q:"):  # an investor question the section answers: indexed, never quoted
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
        text = "\n".join(kept).strip()
        if not text:
            problem(current["line"], f"section '{current['heading']}' is empty")
            return
        sections.append(Section(text=text, questions=tuple(questions), status=status, **current))

    in_fence = False
    for index in range(body_start, len(lines)):
        line = lines[index]
        number = index + 1
        if line.strip().startswith("```"):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match is None:
            if current is None:
                if line.strip() and preamble_line is None:
                    preamble_line = number
            else:
                body.append(line)
            continue
        level = len(match.group(1))
        if level == 1 or level > 3:
            problem(number, "use '##' for sections and '###' for subsections (no '#' title, nothing deeper)")
            continue
        located = split_locator(match.group(2))
        if located is None:
            problem(
                number,
                f"heading '{match.group(2)}' must end with its source locator in parentheses, e.g. '(COBS 4.12A)'",
            )
            continue
        close()
        heading, locator = located
        if level == 2:
            stack = [heading]
        else:
            if not stack:
                problem(number, "a '###' subsection must come after a '##' section")
                continue
            stack = stack[:1] + [heading]
        anchor = slugify(heading)
        base, n = anchor, 2
        while anchor in anchors:
            anchor, n = f"{base}-{n}", n + 1
        anchors.add(anchor)
        current = {"heading": heading, "locator": locator, "path": tuple(stack), "anchor": anchor, "line": number}
        body = []
    close()
    if preamble_line is not None:
        problem(preamble_line, "text before the first '##' section; put it under a section with a locator")
    return sections


def corpus_files(root: Path) -> list[Path]:
    """The Markdown files of a corpus folder, in a stable order."""
    return sorted(p for p in root.rglob("*.md") if p.is_file())


def load_corpus(root: Path, today: dt.date | None = None) -> list[Document]:
    """Load and validate every document under root; raise CorpusError listing every problem."""
    today = today or dt.date.today()
    if not root.is_dir():
        raise CorpusError([CorpusProblem(str(root), 0, "corpus folder not found; set corpus.path (BOT_CORPUS__PATH)")])
    documents: list[Document] = []
    problems: list[CorpusProblem] = []
    seen: dict[str, str] = {}
    for path in corpus_files(root):
        document, found = parse_document(path, today, root)
        problems.extend(found)
        if document is None:
            continue
        if document.id in seen:
            problems.append(
                CorpusProblem(document.path, 2, f"duplicate id '{document.id}' (also in {seen[document.id]})")
            )
            continue
        seen[document.id] = document.path
        documents.append(document)
    known = set(seen)
    for document in documents:
        if document.superseded_by and document.superseded_by not in known:
            problems.append(
                CorpusProblem(
                    document.path, 2, f"superseded_by '{document.superseded_by}' is not a document id in the corpus"
                )
            )
    if not documents and not problems:
        problems.append(CorpusProblem(str(root), 0, "no corpus documents (*.md) found"))
    if problems:
        raise CorpusError(problems)
    return documents


def corpus_version(documents: list[Document]) -> str:
    """A short hash naming exactly this set of document contents."""
    digest = hashlib.sha256()
    for document in sorted(documents, key=lambda d: d.id):
        digest.update(f"{document.id}:{document.content_hash}\n".encode())
    return digest.hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    """Validate a corpus folder: `python -m bot.corpus corpus/`."""
    args = argv if argv is not None else sys.argv[1:]
    root = Path(args[0] if args else "corpus")
    try:
        documents = load_corpus(root)
    except CorpusError as exc:
        print(exc, file=sys.stderr)
        for p in exc.problems[20:]:
            print(p, file=sys.stderr)
        return 1
    print(f"{len(documents)} documents OK (corpus version {corpus_version(documents)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
