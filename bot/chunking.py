"""Split document sections into chunks no longer than the model reads."""

from __future__ import annotations

from collections.abc import Callable

from bot.text import split_sentences
from bot.types import Chunk, Document, Section

# Raised whenever sentence splitting or chunking changes what a build holds: an index built with another
# version is rebuilt, not reused (the corpus files alone would say it is up to date).
# 2: an all-capitals acronym ("... to the SEC. A US investor ...") ends a sentence; "Sec." still does not.
CHUNKING_VERSION = 2


def chunk_prefix(document: Document, section: Section) -> str:
    """The context line embedded with every chunk of a section."""
    return f"{document.publisher}: {document.title} > {' > '.join(section.path)}"


def chunk_document(document: Document, count_tokens: Callable[[str], int], max_tokens: int) -> list[Chunk]:
    """Chunk every section: section first, then whole sentences up to max_tokens word pieces."""
    chunks: list[Chunk] = []
    for section in document.sections:
        prefix = chunk_prefix(document, section)
        budget = max_tokens
        pieces: list[str] = []
        for sentence in split_sentences(section.text):
            pieces.extend(_split_long(sentence, prefix, count_tokens, budget))
        group: list[str] = []
        for piece in pieces:
            candidate = group + [piece]
            if group and count_tokens(_embed_text(prefix, candidate)) > budget:
                chunks.append(_make(document, section, prefix, group, len(chunks), count_tokens))
                group = [piece]
            else:
                group = candidate
        if group:
            chunks.append(_make(document, section, prefix, group, len(chunks), count_tokens))
    return chunks


def _embed_text(prefix: str, sentences: list[str]) -> str:
    return prefix + "\n" + " ".join(sentences)


def _split_long(sentence: str, prefix: str, count_tokens: Callable[[str], int], budget: int) -> list[str]:
    """Cut a sentence that alone exceeds the budget into word runs that fit."""
    if count_tokens(_embed_text(prefix, [sentence])) <= budget:
        return [sentence]
    parts: list[str] = []
    words: list[str] = []
    for word in sentence.split():
        if words and count_tokens(_embed_text(prefix, [" ".join(words + [word])])) > budget:
            parts.append(" ".join(words))
            words = [word]
        else:
            words.append(word)
    if words:
        parts.append(" ".join(words))
    return parts


def _make(
    document: Document,
    section: Section,
    prefix: str,
    sentences: list[str],
    number: int,
    count_tokens: Callable[[str], int],
) -> Chunk:
    embed_text = _embed_text(prefix, sentences)
    return Chunk(
        id=f"{document.id}#{section.anchor}:{number}",
        doc_id=document.id,
        section_anchor=section.anchor,
        text=" ".join(sentences),
        sentences=tuple(sentences),
        embed_text=embed_text,
        n_tokens=count_tokens(embed_text),
    )
