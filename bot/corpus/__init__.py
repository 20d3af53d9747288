"""Load and validate corpus documents (Markdown with YAML front matter).

`vocabulary` lists what a document may say, `parsing` reads one file, `validation` checks its front
matter, `load` reads a whole folder, and `review` lists what to re-check (`bot corpus review`).
"""

from bot.corpus.load import corpus_files, corpus_version, load_corpus, main
from bot.corpus.parsing import parse_document, split_locator
from bot.corpus.vocabulary import (
    DOC_TYPES,
    JURISDICTIONS,
    OFFICIAL_DOMAINS,
    PUBLISHERS,
    STATUSES,
    TOPICS,
    official_domain,
)

__all__ = [
    "DOC_TYPES",
    "JURISDICTIONS",
    "OFFICIAL_DOMAINS",
    "PUBLISHERS",
    "STATUSES",
    "TOPICS",
    "corpus_files",
    "corpus_version",
    "load_corpus",
    "main",
    "official_domain",
    "parse_document",
    "split_locator",
]
