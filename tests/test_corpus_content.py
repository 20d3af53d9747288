"""The bundled corpus: valid, official, covering every required publisher, no near-duplicates."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from pathlib import Path

import pytest

from bot.corpus import load_corpus, official_domain
from bot.text import split_sentences
from bot.types import Document

CORPUS = Path(__file__).resolve().parent.parent / "corpus"

REQUIRED_PUBLISHERS = {
    "FCA",
    "HM Treasury",
    "Bank of England",
    "HMRC",
    "FOS",
    "FSCS",
    "SEC",
    "CFTC",
    "US Congress",
    "US Treasury",
    "FinCEN",
    "IRS",
    "FDIC",
    "SIPC",
    "FINRA",
    "CFPB",
    "NYDFS",
    "OECD",
    "IOSCO",
    "FSB",
    "HM Treasury and US Treasury",
}


@pytest.fixture(scope="module")
def documents() -> list[Document]:
    return load_corpus(CORPUS)


def test_every_file_validates_and_ids_are_unique(documents: list[Document]) -> None:
    ids = [d.id for d in documents]
    assert len(ids) == len(set(ids))
    assert len(documents) == len(list(CORPUS.rglob("*.md")))


def test_size_and_balance(documents: list[Document]) -> None:
    by_jurisdiction = Counter(d.jurisdiction for d in documents)
    assert len(documents) >= 60
    assert by_jurisdiction["UK"] >= 25
    assert by_jurisdiction["US"] >= 25
    assert by_jurisdiction["INTL"] >= 3


def test_every_required_publisher_is_present(documents: list[Document]) -> None:
    missing = REQUIRED_PUBLISHERS - {d.publisher for d in documents}
    assert not missing, f"no document from {sorted(missing)}"


def test_urls_are_on_official_domains(documents: list[Document]) -> None:
    assert all(official_domain(d.url) for d in documents)


def test_every_section_has_a_locator_and_text(documents: list[Document]) -> None:
    for document in documents:
        for section in document.sections:
            assert section.locator, f"{document.path}:{section.line}"
            assert split_sentences(section.text), f"{document.path}:{section.line}"


def test_files_live_under_their_jurisdiction(documents: list[Document]) -> None:
    for document in documents:
        assert f"/{document.jurisdiction.lower()}/" in "/" + document.path.replace("\\", "/"), document.path


def _shingles(document: Document, size: int = 6) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", " ".join(s.text for s in document.sections).lower())
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def test_no_two_documents_near_duplicate_each_other(documents: list[Document]) -> None:
    shingles = {d.id: _shingles(d) for d in documents}
    for left, right in itertools.combinations(documents, 2):
        a, b = shingles[left.id], shingles[right.id]
        jaccard = len(a & b) / max(1, len(a | b))
        assert jaccard < 0.3, f"{left.id} and {right.id} share {jaccard:.0%} of their 6-word runs"


def test_sentences_stand_alone(documents: list[Document]) -> None:
    """A quoted sentence must name its subject: none may open with a bare pronoun."""
    offenders = []
    for document in documents:
        for section in document.sections:
            for sentence in split_sentences(section.text):
                if re.match(r"^(It|This|These|They|Those|That|Such)\b(?! (?:is|are) (?:a|an)\b)", sentence):
                    offenders.append(f"{document.path}:{section.line}: {sentence[:70]}")
    assert len(offenders) <= len(documents) // 10, "\n".join(offenders[:40])


def test_sentences_do_not_name_the_corpus_or_its_ids(documents: list[Document]) -> None:
    """Investors read the sentences: none may point at 'the corpus' or at a digest's file id."""
    ids = {document.id for document in documents}
    offenders = []
    for document in documents:
        for section in document.sections:
            for sentence in split_sentences(section.text):
                named = re.search(r"\bcorpus\b", sentence, re.I) or ids & set(
                    re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)+", sentence)
                )
                if named:
                    offenders.append(f"{document.path}:{section.line}: {sentence[:90]}")
    assert not offenders, "\n".join(offenders)


def test_proposals_say_so(documents: list[Document]) -> None:
    """A consultation or proposal names itself as such in its text."""
    for document in documents:
        if document.status in ("proposed", "consultation"):
            text = " ".join(s.text for s in document.sections).lower()
            assert re.search(r"propos|consult|draft|bill", text), document.id
