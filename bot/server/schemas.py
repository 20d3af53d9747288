"""Request and response models of the HTTP API (what /docs shows)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.types import Document


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChatTurn(_Strict):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)


class AnswerRequest(_Strict):
    question: str = Field(
        description="The question, in plain words (at most answer.max_question_chars).",
        examples=["I live in the UK and keep USDC on a US exchange; what protects me?"],
    )
    history: list[str | ChatTurn] = Field(
        default_factory=list,
        max_length=50,
        description="Earlier turns of the conversation, oldest first: questions as strings, or "
        "{role, content} messages. Follow-up questions use them for context.",
    )
    jurisdictions: list[Literal["UK", "US"]] | None = Field(
        None,
        description="Only these jurisdictions' sources; omit (or both) to let the question decide.",
    )
    as_of: dt.date | None = Field(None, description="Answer from the documents in force on this day (default today).")


class SessionRequest(_Strict):
    publishable_key: str = Field(max_length=200, description="The widget's publishable key (pk_...).")


class SessionResponse(BaseModel):
    token: str = Field(description="Send as 'Authorization: Bearer <token>' from the same origin.")
    token_type: Literal["Bearer"] = "Bearer"
    expires_at: dt.datetime
    expires_in: int = Field(description="Seconds until the token expires.")


class FeedbackRequest(_Strict):
    answer_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The `id` of the answer being rated.",
    )
    question: str | None = Field(
        None,
        max_length=4000,
        description="Accepted for older clients and not stored: the audit log already holds the question.",
    )
    rating: Literal["up", "down"] = Field(
        description="A later rating of the same answer by the same caller replaces it."
    )
    comment: str | None = Field(None, max_length=2000, description="Optional words from the user.")


class FeedbackResponse(BaseModel):
    id: str
    stored: bool = True


class SectionInfo(BaseModel):
    heading: str
    locator: str
    anchor: str


class SourceSummary(BaseModel):
    id: str
    title: str
    jurisdiction: str
    publisher: str
    doc_type: str
    reference: str
    url: str
    status: str
    published: dt.date
    effective: dt.date | None
    until: dt.date | None
    reviewed: dt.date
    topics: list[str]


class SourceDetail(SourceSummary):
    superseded_by: str | None
    content_hash: str
    sections: list[SectionInfo]


class SourceList(BaseModel):
    corpus_version: str
    count: int
    sources: list[SourceSummary]


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. invalid_api_key, rate_limited.")
    message: str = Field(description="What went wrong and what to do next.")
    request_id: str
    details: dict[str, Any] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


def source_summary(document: Document) -> dict[str, Any]:
    return {
        "id": document.id,
        "title": document.title,
        "jurisdiction": document.jurisdiction,
        "publisher": document.publisher,
        "doc_type": document.doc_type,
        "reference": document.reference,
        "url": document.url,
        "status": document.status,
        "published": document.published,
        "effective": document.effective,
        "until": document.until,
        "reviewed": document.reviewed,
        "topics": list(document.topics),
    }
