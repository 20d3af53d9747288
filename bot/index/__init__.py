"""Build (incrementally, atomically) and open the index: Chroma vectors, BM25 postings, sentence vectors.

build.py builds a new index; manifest.py says what a build indexes and whether it is up to date;
files.py writes and reads a build's files; store.py fills, checks and prunes the Chroma collections;
reader.py opens the current build for querying (class Index).
"""

from bot.chroma import release_embedded

from .build import build_index
from .files import _doc_from_json, _doc_to_json, lexical_terms
from .manifest import BuildReport, corpus_hashes, current_manifest, indexed_documents, read_current, up_to_date
from .reader import Index, SentenceTerms, top_rows
from .store import FAR_FUTURE, _ord, collection_name

__all__ = [
    "FAR_FUTURE",
    "BuildReport",
    "Index",
    "SentenceTerms",
    "_doc_from_json",
    "_doc_to_json",
    "_ord",
    "build_index",
    "collection_name",
    "corpus_hashes",
    "current_manifest",
    "indexed_documents",
    "lexical_terms",
    "read_current",
    "release_embedded",
    "top_rows",
    "up_to_date",
]
