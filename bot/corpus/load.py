"""Load and validate a whole corpus folder: `python -m bot.corpus corpus/`."""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from pathlib import Path

from bot.corpus.parsing import parse_document
from bot.errors import CorpusError, CorpusProblem
from bot.types import Document


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
