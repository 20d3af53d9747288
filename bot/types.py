"""Plain typed objects passed between pipeline stages, and the answer contract."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

Jurisdiction = Literal["UK", "US", "INTL"]
Country = Literal["UK", "US"]
Kind = Literal["answer", "refusal", "no_guidance"]
Intent = Literal[
    "information", "personal_advice", "price_prediction", "out_of_scope", "other_country", "firm_service", "injection"
]
Status = Literal["in_force", "not_yet_in_force", "proposed", "consultation", "superseded", "withdrawn"]
PROPOSAL_STATUSES: tuple[Status, ...] = ("proposed", "consultation")  # drafts, not law
DocType = Literal[
    "legislation",
    "rule",
    "policy_statement",
    "guidance",
    "statement",
    "consultation",
    "consumer_warning",
    "faq",
    "report",
    "recommendation",
    "statement_of_intent",
]


class Section(BaseModel):
    """One `##`/`###` section of a corpus document."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    heading: str = Field(description="The heading text without its locator.")
    locator: str = Field(description='Where in the source it comes from, e.g. "COBS 4.12A".')
    path: tuple[str, ...] = Field(description="Heading path, outermost first.")
    anchor: str = Field(description="Stable slug, unique within the document.")
    text: str
    line: int = Field(description="1-based line of the heading in the file.")
    # investor questions the section answers ('Q:' lines), indexed, never quoted
    questions: tuple[str, ...] = ()
    # the section's own status when it differs from the document's ('Status:' line)
    status: Status | None = None

    @property
    def is_cross_border(self) -> bool:
        return self.heading.lower().startswith("cross-border")


class DocumentInfo(BaseModel):
    """What a corpus document is: the fields every listing shows (/v1/sources, `bot sources --json`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str
    jurisdiction: Jurisdiction
    publisher: str
    doc_type: DocType
    reference: str
    url: str
    status: Status
    published: dt.date
    effective: dt.date | None
    until: dt.date | None
    reviewed: dt.date
    topics: tuple[str, ...]

    def info(self) -> DocumentInfo:
        """Only the listing fields (a Document is a DocumentInfo with its sections and file)."""
        return DocumentInfo(**{name: getattr(self, name) for name in DocumentInfo.model_fields})


class Document(DocumentInfo):
    """One corpus file: validated front matter and its sections. The one shape of a document: the
    index stores it with model_dump, and the API and `bot sources --json` show its DocumentInfo."""

    superseded_by: str | None
    sections: tuple[Section, ...]
    path: str
    content_hash: str
    evidence_date: dt.date | None = None  # the date of the latest evidence behind its "as of" claims, if not published

    @property
    def evidence_as_of(self) -> dt.date:
        """The date the document's claims about the present are evidenced to: evidence_date, else published."""
        return self.evidence_date or self.published

    def in_force_on(self, day: dt.date) -> bool:
        """True when the document had been published and had not stopped applying on day."""
        return self.published <= day and (self.until is None or self.until > day)


@dataclass(frozen=True)
class Chunk:
    """A token-bounded piece of one section, the unit of retrieval."""

    id: str
    doc_id: str
    section_anchor: str
    text: str  # the chunk's own sentences
    sentences: tuple[str, ...]
    embed_text: str  # what is embedded: title and heading path, then the text
    n_tokens: int


@dataclass
class Profile:
    """What the question analysis understood."""

    jurisdictions: list[str] = field(default_factory=list)
    residence: str | None = None
    citizenship: str | None = None
    green_card: bool = False  # a US lawful permanent resident: taxed by the US as a US person wherever they live
    platform_location: str | None = None
    issuer_location: str | None = None
    asset_types: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    intent: str = "information"
    cross_border: bool = False
    other_countries: list[str] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)
    injection_suspected: bool = False
    follow_up: bool = False
    own_subject: bool = False  # the question names a topic, an asset, a body or a platform of its own

    def person_sides(self) -> set[str]:
        """The sides that reach the investor as a person (their tax, their reporting): where they live, and the
        US for a US citizen or a green-card holder, whom the US taxes wherever they live. UK citizenship alone
        brings no UK rules: the UK taxes and protects by residence."""
        us_person = self.citizenship == "US" or self.green_card
        return {side for side in (self.residence, "US" if us_person else None) if side}


@dataclass
class Evidence:
    """One retrieved chunk with its scores."""

    chunk: Chunk
    document: Document
    section: Section
    score: float  # fused score
    dense_similarity: float  # cosine similarity to the question
    group: str  # UK | US | INTL: the quota it was retrieved under
    question_similarity: float = 0.0  # closeness of the section's best investor question ('Q:' line) to the query

    @property
    def status(self) -> Status:
        """The chunk's own status: its section's when the section differs (a draft inside a final policy)."""
        return self.section.status or self.document.status


class AnswerProfile(BaseModel):
    """What the question analysis understood (a frozen copy of the pipeline's Profile)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    jurisdictions: list[Jurisdiction] = Field(default_factory=list)
    residence: Country | None = None
    citizenship: Country | None = None
    green_card: bool = Field(False, description="The investor holds a US green card (a US person for US tax).")
    platform_location: Country | None = None
    issuer_location: Country | None = None
    asset_types: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    intent: Intent = "information"
    cross_border: bool = False
    other_countries: list[str] = Field(default_factory=list)
    bodies: list[str] = Field(default_factory=list)
    injection_suspected: bool = False
    follow_up: bool = False


class EvidenceRef(BaseModel):
    """One retrieved chunk, for audit: where it is from and how it scored."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    doc_id: str
    section: str = Field(description="The section's anchor.")
    group: Jurisdiction = Field(description="The quota it was retrieved under.")
    score: float = Field(description="Fused score.")
    similarity: float = Field(description="Cosine similarity to the question.")


class DroppedSentence(BaseModel):
    """A sentence the LLM wrote that citation verification dropped, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sentence: str = Field(description="As written, citation markers included.")
    section: str
    citations: list[int] = Field(description="The passages it cited that were given.")
    reason: str
    support: float = Field(description="Similarity to the closest sentences of the cited passages.")
    coverage: float = Field(description="The smallest share of a clause's words found in the cited passages.")


class RemovedMarkers(BaseModel):
    """Citation markers taken out of a written sentence: passages never given, or of another country."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sentence: str
    markers: list[int]


class Diagnostics(BaseModel):
    """How an answer was made. Only the fields that were set are serialised, in this order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    composer: Literal["extractive", "llm"] = "extractive"
    llm: str | None = Field(None, description="The LLM backend asked (BOT_LLM).")
    attempts: int | None = None
    llm_seconds: float | None = None
    sentences_written: int | None = None
    reply_cut: bool | None = Field(None, description="The reply was cut at its length limit.")
    sentences_kept: int | None = None
    dropped: list[DroppedSentence] | None = Field(None, description="Sentences citation verification dropped, and why.")
    removed_markers: list[RemovedMarkers] | None = None
    fallback: Literal["llm_error", "too_little_supported"] | None = Field(
        None, description="Why the extractive composer answered instead of the LLM (null: it did not)."
    )
    error: str | None = None
    llm_said: str | None = None
    next_steps: Literal["extractive"] | None = None

    @model_serializer(mode="wrap")
    def _only_set(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {key: value for key, value in handler(self).items() if key in self.model_fields_set}


class Sentence(BaseModel):
    text: str
    citations: list[int] = Field(description="Ids of the citations that support the sentence.")


class Citation(BaseModel):
    id: int
    doc_id: str
    title: str
    publisher: str
    jurisdiction: Jurisdiction
    section: str
    locator: str
    anchor: str
    url: str
    status: Status
    published: dt.date
    effective: dt.date | None = None
    until: dt.date | None = None
    reviewed: dt.date
    content_hash: str = Field(description="SHA-256 of the cited document's file as indexed.")
    quote: str = Field(description="The supporting passage, quoted from the corpus.")


class Answer(BaseModel):
    """The answer contract shared by every interface (DESIGN.md)."""

    id: str
    question: str
    kind: Kind
    answer: str = Field(description="Markdown with numbered citation markers [n].")
    sections: dict[str, list[Sentence]] = Field(
        description="UK, US, cross_border and next_steps: sentences with their citation ids."
    )
    citations: dict[int, Citation]
    profile: AnswerProfile
    timings: dict[str, float] = Field(description="Milliseconds per stage.")
    as_of: dt.date
    corpus_version: str
    index_build: str
    notice: str
    diagnostics: Diagnostics = Field(
        default_factory=Diagnostics,
        description="How the answer was made: the composer, and for an LLM answer the attempts, the "
        "sentences dropped by citation verification (with reasons) and any fallback to the extractive composer.",
    )
    evidence: list[EvidenceRef] = Field(
        default_factory=list, description="Retrieved chunks (doc id, section, scores), for audit."
    )


def answer_body(answer: Answer) -> str:
    """The answer's Markdown without its plain Sources list and notice (interfaces render them)."""
    body = answer.answer.split("\n**Sources**", 1)[0]
    return body.replace(f"_{answer.notice}_", "").strip()


def answer_lines(answer: Answer) -> list[str]:
    """The answer body line by line: one heading, paragraph or cited sentence each."""
    return [line for line in answer_body(answer).splitlines() if line.strip()]
